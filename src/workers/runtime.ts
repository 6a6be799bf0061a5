// The worker side of the protocol: waits for `start`, runs the job body, honours pause / resume /
// cancel between units of work, reports the result or the error, and exits when main goes away.
import type { z } from 'zod'
import { describeZodError } from '../shared/api'
import { MainMessage, type WorkerMessage } from '../shared/protocol'
import { JobCancelled, type JobContext, PAUSED_LOG_LINE } from '../core/job-context'
import { PauseGate } from '../core/pause-gate'

const PROGRESS_INTERVAL_MS = 100

export function runWorker<S extends z.ZodType>(schema: S, body: (params: z.output<S>, ctx: JobContext) => Promise<unknown>): void {
  if (!process.send) {
    console.error('This is a GPT Workbench worker; it runs as a child process of the workbench.')
    process.exit(2)
  }
  let lastProgressAt = 0
  let started = false

  const send = (msg: WorkerMessage): Promise<void> =>
    new Promise((resolve) => {
      if (!process.connected) return resolve()
      process.send!(msg, undefined, {}, () => resolve())
    })

  // Main learns that a pause has taken hold (no more progress, metrics or cache writes until resume)
  // from this line; it follows everything the job sent before it stopped.
  const gate = new PauseGate(() => ctx.log(PAUSED_LOG_LINE))
  const ctx: JobContext = {
    report(msg) {
      void send(msg)
    },
    progress(done, total, text = '') {
      const now = Date.now()
      if (now - lastProgressAt < PROGRESS_INTERVAL_MS && done < total) return
      lastProgressAt = now
      void send({ type: 'progress', done, total, text })
    },
    log(text, level = 'info') {
      void send({ type: 'log', level, text })
    },
    metric(step, values) {
      void send({ type: 'metric', step, values })
    },
    pausePoint: () => gate.point(),
    signal: gate.signal
  }

  const finish = async (msg: WorkerMessage, code: number): Promise<never> => {
    await send(msg)
    process.exit(code)
  }

  process.on('disconnect', () => process.exit(gate.signal.aborted ? 0 : 3))
  process.on('message', (raw) => {
    const parsed = MainMessage.safeParse(raw)
    if (!parsed.success) return
    const msg = parsed.data
    if (msg.type === 'pause') gate.pause()
    if (msg.type === 'resume') gate.resume()
    if (msg.type === 'cancel') {
      ctx.stopWithCheckpoint = msg.checkpoint ?? false
      gate.cancel()
    }
    if (msg.type !== 'start' || started) return
    started = true
    const params = schema.safeParse(msg.params)
    if (!params.success) {
      void finish({ type: 'error', message: `Invalid job parameters: ${describeZodError(params.error)}` }, 1)
      return
    }
    body(params.data, ctx).then(
      (result) => finish({ type: 'result', result: result ?? null }, 0),
      (err: unknown) =>
        err instanceof JobCancelled
          ? finish({ type: 'cancelled', ...(err.note ? { note: err.note } : {}) }, 0)
          : finish({ type: 'error', message: err instanceof Error ? err.message : String(err) }, 1)
    )
  })
}
