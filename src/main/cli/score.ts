// gptw score: mean next-token loss and perplexity of a text file under a checkpoint.
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { initBackend } from '../../core/engine/backend'
import { loadTraining } from '../../core/engine/checkpoint-tf'
import { scoreText } from '../../core/engine/score'
import { UsageError } from './args'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { checkpoint: { type: 'string' }, text: { type: 'string' }, json: { type: 'boolean' }, backend: { type: 'string' } } as const

export async function score(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (!values.checkpoint || !values.text) throw new UsageError('score needs --checkpoint DIR and --text FILE.')
  const textFile = path.resolve(values.text)
  if (!fs.existsSync(textFile)) throw new Error(`Text file ${textFile} does not exist.`)
  const backend = await initBackend((values.backend as 'wasm' | undefined) ?? 'auto')
  const { model } = loadTraining(path.resolve(values.checkpoint))
  const result = await scoreText(model, fs.readFileSync(textFile, 'utf8'))
  const out = { checkpoint: path.resolve(values.checkpoint), text: textFile, backend: backend.name, ...result }
  console.log(values.json ? JSON.stringify(out) : `${result.tokens} tokens: loss ${result.loss.toFixed(4)}, perplexity ${result.perplexity.toFixed(2)}`)
  return 0
}
