// What a job body sees of its host: report progress and logs, and yield at safe points where a
// pause waits and a cancel stops the job. The worker runtime and the CLI both provide one.
import type { WorkerMessage } from '../shared/protocol'

/** Typed events beyond progress and logs (checkpoints written, the backend chosen, eval results and cache traffic). */
export type JobReport = Extract<WorkerMessage, { type: 'checkpoint' | 'resumed' | 'backend' | 'eval-cache-get' | 'eval-cache-put' | 'eval-task' | 'generation' }>

export interface JobContext {
  report(msg: JobReport): void
  progress(done: number, total: number, text?: string): void
  log(text: string, level?: 'info' | 'warn' | 'error'): void
  metric(step: number, values: Record<string, number>): void
  /** Call between units of work: resolves at once, waits while paused, throws JobCancelled. */
  pausePoint(): Promise<void>
  /** Aborted when the job is cancelled (reason: a JobCancelled), for work that should stop without polling pausePoint(). */
  signal: AbortSignal
  /** Set when a stop asked the job to save its state first (training: a checkpoint at the current step). */
  stopWithCheckpoint?: boolean
}

/** What a worker logs when a pause takes hold at a pause point: everything it sent before has reached main. */
export const PAUSED_LOG_LINE = 'Paused: the job waits at a safe point until it is resumed.'

export class JobCancelled extends Error {
  /** note: what the job kept as it stopped (main shows it as the job's last line). */
  constructor(readonly note?: string) {
    super('cancelled')
  }
}

/** A context for running a job body inline (CLI, tests) with a progress callback; aborting `signal` cancels the job at its next pause point. */
export function inlineContext(onProgress?: (done: number, total: number, text: string) => void, onLog?: (text: string) => void, signal: AbortSignal = new AbortController().signal): JobContext {
  return {
    report: () => {},
    progress: (done, total, text = '') => onProgress?.(done, total, text),
    log: (text) => onLog?.(text),
    metric: () => {},
    pausePoint: async () => {
      await new Promise((resolve) => setImmediate(resolve))
      if (signal.aborted) throw new JobCancelled()
    },
    signal
  }
}
