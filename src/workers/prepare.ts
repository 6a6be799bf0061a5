// Worker entry: prepare a Webtext dataset (the `prepare` job kind): sources to token shards, in
// the dataset folder main chose; a rerun on the same folder resumes.
import { z } from 'zod'
import { PrepareParams } from '../shared/config/prepare'
import { runPipeline } from '../core/data/pipeline/runner'
import { runWorker } from './runtime'

const Params = PrepareParams.extend({ datasetDir: z.string().min(1) })

runWorker(Params, (params, ctx) => runPipeline(params.config, params.datasetDir, ctx))
