// The long-lived generation worker's body: load one checkpoint, say it is ready, then serve
// generation requests one at a time, streaming each token to main, until main unloads the model
// (the job ends done) or cancels the job. A stop request ends its generation after the current token.
// Main may also switch on the OpenAI-compatible API (src/core/serve-api) over the same loaded
// model, on 127.0.0.1 with the key main made; its counters go to main as they change.
import type { z } from 'zod'
import type { GenerateRequestMessage, GenerateStopMessage, GenerateWorkerParams, ServeStartMessage, ServeStopMessage, TokenInfo, UnloadMessage } from '../../shared/generate'
import type { JobContext } from '../job-context'
import type { GPT } from '../engine/model'
import { type LoadedGeneration, loadGeneration } from '../engine/pytorch/generation-engine'
import { type AnyServedModel, modelId, serveLoaded } from '../serve-api/models'
import { torchServed } from '../serve-api/torch-backend'
import { type ApiServer, startApiServer } from '../serve-api/server'

export type WorkerRequest =
  z.infer<typeof GenerateRequestMessage> | z.infer<typeof GenerateStopMessage> | z.infer<typeof UnloadMessage> | z.infer<typeof ServeStartMessage> | z.infer<typeof ServeStopMessage>

/** How often the API's counters are looked at (sent only when they changed). */
const SERVE_REPORT_MS = 500

export interface ServeSummary {
  checkpoint: string
  generations: number
  tokens: number
}

const IDLE_POLL_MS = 200

export async function serveGeneration(params: GenerateWorkerParams, ctx: JobContext, subscribe: (listener: (msg: WorkerRequest) => void) => void): Promise<ServeSummary> {
  const queue: z.infer<typeof GenerateRequestMessage>[] = []
  const stopped = new Set<string>()
  let unloading = false
  let wake: (() => void) | null = null
  // Requests can arrive while the model loads: take them now, serve them once it is ready.
  let model: GPT | null = null
  let loaded: LoadedGeneration | null = null
  let api: { server: ApiServer; served: AnyServedModel; timer: NodeJS.Timeout } | null = null
  let serveWanted: z.infer<typeof ServeStartMessage> | null = null
  const startServing = async (msg: z.infer<typeof ServeStartMessage>): Promise<void> => {
    if (api || !loaded) return
    // on the PyTorch engine the API's sequences are sessions of the same model server
    const served: AnyServedModel = model
      ? serveLoaded(model, modelId(params.checkpoint), params.checkpoint, { maxBatch: 16, maxQueue: 64 })
      : torchServed([loaded.server!], modelId(params.checkpoint), params.checkpoint, { maxBatch: 16, maxQueue: 64 })
    try {
      const server = await startApiServer({ models: [served], host: '127.0.0.1', port: msg.port, apiKey: msg.apiKey })
      let last = ''
      const report = (): void => {
        const now = JSON.stringify(server.stats)
        if (now === last) return
        last = now
        ctx.report({ type: 'generation', event: { kind: 'serving', url: server.url, modelId: served.id, ...server.stats } })
      }
      api = { server, served, timer: setInterval(report, SERVE_REPORT_MS) }
      report()
      ctx.log(`Serving an OpenAI-compatible API at ${server.url}/v1 (model ${served.id}).`)
    } catch (err) {
      await served.generator.close()
      ctx.report({ type: 'generation', event: { kind: 'serve-stopped', message: `The API could not start: ${(err as Error).message}` } })
    }
  }
  const stopServing = async (): Promise<void> => {
    serveWanted = null
    if (!api) return
    const { server, served, timer } = api
    api = null
    clearInterval(timer)
    await server.close()
    await served.generator.close()
    ctx.log('Stopped serving the API.')
    ctx.report({ type: 'generation', event: { kind: 'serve-stopped', message: null } })
  }
  subscribe((msg) => {
    if (msg.type === 'generate') queue.push(msg)
    else if (msg.type === 'generate-stop') stopped.add(msg.requestId)
    else if (msg.type === 'serve-start') {
      serveWanted = msg
      void startServing(msg)
    } else if (msg.type === 'serve-stop') void stopServing()
    else unloading = true
    wake?.()
  })
  // A cancel of the whole job ends an idle wait and the generation in progress at once.
  ctx.signal.addEventListener('abort', () => wake?.(), { once: true })

  ctx.progress(0, 1, `Loading ${params.checkpoint}`)
  // The engine the job asks for (params.engine, device): the embedded GPT or a PyTorch model server.
  loaded = await loadGeneration(params, ctx)
  model = loaded.gpt
  const generator = loaded.generator
  if (serveWanted) void startServing(serveWanted)
  const info = loaded.info
  ctx.report({ type: 'generation', event: { kind: 'ready', model: info } })
  ctx.log(`Loaded ${params.checkpoint}: ${info.nLayer} layers x ${info.nEmbd} wide, context ${info.nCtx}, ${(info.parameters / 1e6).toFixed(2)}M parameters; ${info.backend}.`)

  const summary: ServeSummary = { checkpoint: params.checkpoint, generations: 0, tokens: 0 }
  const status = (): void => ctx.progress(0, 1, `Serving: ${summary.generations} generation(s), ${summary.tokens} tokens`)
  status()
  try {
    while (!unloading) {
      await ctx.pausePoint()
      const req = queue.shift()
      if (!req) {
        await new Promise<void>((resolve) => {
          wake = resolve
          setTimeout(resolve, IDLE_POLL_MS)
        })
        wake = null
        continue
      }
      let pending: TokenInfo[] = []
      const send = (text: string): void => {
        ctx.report({ type: 'generation', event: { kind: 'tokens', requestId: req.requestId, tokens: pending, text } })
        pending = []
      }
      try {
        const result = await generator.generate({ text: req.prompt }, req.params, {
          onToken: (t) => pending.push(t),
          onText: (delta) => send(delta),
          onNotice: (message) => ctx.report({ type: 'generation', event: { kind: 'notice', requestId: req.requestId, message } }),
          shouldStop: () => ctx.signal.aborted || unloading || stopped.has(req.requestId)
        })
        if (pending.length) send('')
        const { ids: _ids, ...plain } = result
        ctx.report({ type: 'generation', event: { kind: 'done', requestId: req.requestId, result: plain } })
        summary.generations++
        summary.tokens += result.length
      } catch (err) {
        ctx.report({ type: 'generation', event: { kind: 'error', requestId: req.requestId, message: (err as Error).message } })
      }
      stopped.delete(req.requestId)
      status()
    }
    // Requests still queued when the model is unloaded end as stopped, so no caller waits for ever.
    for (const req of queue.splice(0)) ctx.report({ type: 'generation', event: { kind: 'error', requestId: req.requestId, message: 'The model was unloaded before this generation started.' } })
  } finally {
    await stopServing()
    await loaded.close()
  }
  return summary
}
