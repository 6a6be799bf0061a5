// gptw serve-model: an OpenAI-compatible completions API over one or more checkpoints, in this
// process, until Ctrl+C (src/core/serve-api: the parameters it honours and refuses, the chat
// template). Prints the base URL, the model ids and a curl example. 127.0.0.1 unless --host with
// --api-key (or GPTW_API_KEY, kept out of the process list).
import { parseArgs } from 'node:util'
import { describeBackend, initBackend } from '../../core/engine/backend'
import { loadServedModels, unloadServedModels } from '../../core/serve-api/models'
import { isLoopback, startApiServer } from '../../core/serve-api/server'
import { UsageError, intFlag } from './args'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = {
  checkpoint: { type: 'string', multiple: true },
  port: { type: 'string' },
  host: { type: 'string' },
  'api-key': { type: 'string' },
  'max-batch': { type: 'string' },
  'max-queue': { type: 'string' },
  backend: { type: 'string' }
} as const

export async function serveModel(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const dirs = values.checkpoint ?? []
  if (!dirs.length) throw new UsageError('serve-model needs --checkpoint DIR (repeat it to serve several).')
  const host = values.host ?? '127.0.0.1'
  const apiKey = values['api-key'] ?? process.env.GPTW_API_KEY ?? null
  if (!isLoopback(host) && !apiKey) throw new UsageError(`--host ${host} is reachable from other machines: give --api-key KEY (or GPTW_API_KEY) too, or leave --host out for 127.0.0.1.`)
  const port = intFlag(values.port, 'port', 8000, 0, 65535)
  const maxBatch = intFlag(values['max-batch'], 'max-batch', 16, 1, 256)
  const maxQueue = intFlag(values['max-queue'], 'max-queue', 64, 0, 100_000)
  const backend = await initBackend((values.backend as 'wasm' | undefined) ?? 'auto')
  const served = loadServedModels(dirs, { maxBatch, maxQueue })
  const server = await startApiServer({ models: served, host, port, apiKey }).catch(async (err: Error) => {
    await unloadServedModels(served)
    throw err
  })
  const base = `${server.url}/v1`
  console.log(`Serving an OpenAI-compatible API at ${base}  (${describeBackend(backend)}; batches of up to ${maxBatch}, ${maxQueue} waiting; Ctrl+C stops)`)
  for (const s of served) {
    const c = s.generator.model.config
    console.log(`  model ${s.id}: ${s.dir} (${c.nLayer} layers x ${c.nEmbd}, context ${c.nCtx})`)
  }
  const auth = apiKey ? ` -H "Authorization: Bearer $GPTW_API_KEY"` : ''
  console.log(`Try: curl ${base}/completions -H "Content-Type: application/json"${auth} -d '${JSON.stringify({ model: served[0].id, prompt: 'Call me Ishmael.', max_tokens: 20, temperature: 0.8 })}'`)
  if (apiKey) console.log('(requests need "Authorization: Bearer KEY" with the key given)')
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  await server.close()
  await unloadServedModels(served)
  return 0
}
