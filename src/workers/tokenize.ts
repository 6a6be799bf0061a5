// Worker entry: tokenize a corpus into token shards (the `tokenize` job kind).
import { z } from 'zod'
import { tokenizeCorpus } from '../core/data/tokenize'
import { runWorker } from './runtime'

const Params = z.object({ input: z.string(), outDir: z.string(), valFraction: z.number().min(0).max(0.5) })

runWorker(Params, (params, ctx) => tokenizeCorpus(params, ctx))
