// The long-lived generation worker's body: load one checkpoint, say it is ready, then serve
// generation requests one at a time, streaming each token to main, until main unloads the model
// (the job ends done) or cancels the job. A stop request ends its generation after the current token.
import type { z } from 'zod'
import type { GenerateRequestMessage, GenerateStopMessage, GenerateWorkerParams, TokenInfo, UnloadMessage } from '../../shared/generate'
import type { JobContext } from '../job-context'
import { describeBackend, initBackend } from '../engine/backend'
import { Generator } from './generator'
import { describeModel, loadForGeneration } from './load'

export type WorkerRequest = z.infer<typeof GenerateRequestMessage> | z.infer<typeof GenerateStopMessage> | z.infer<typeof UnloadMessage>

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
  subscribe((msg) => {
    if (msg.type === 'generate') queue.push(msg)
    else if (msg.type === 'generate-stop') stopped.add(msg.requestId)
    else unloading = true
    wake?.()
  })
  // A cancel of the whole job ends an idle wait and the generation in progress at once.
  ctx.signal.addEventListener('abort', () => wake?.(), { once: true })

  const backend = await initBackend(params.backend)
  ctx.report({ type: 'backend', name: backend.name, detail: backend.detail })
  ctx.progress(0, 1, `Loading ${params.checkpoint}`)
  const model = loadForGeneration(params.checkpoint)
  const generator = new Generator(model)
  const info = describeModel(model, describeBackend(backend))
  ctx.report({ type: 'generation', event: { kind: 'ready', model: info } })
  ctx.log(`Loaded ${params.checkpoint}: ${info.nLayer} layers x ${info.nEmbd} wide, context ${info.nCtx}, ${(info.parameters / 1e6).toFixed(2)}M parameters.`)

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
    generator.dispose()
    model.dispose()
  }
  return summary
}
