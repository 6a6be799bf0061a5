// What a job body sees of its host: report progress and logs, and yield at safe points where a
// pause waits and a cancel stops the job. The worker runtime and the CLI both provide one.
import type { WorkerMessage } from '../shared/protocol'

/** Typed events beyond progress and logs (checkpoints written, the backend chosen, eval results and cache traffic). */
export type JobReport = Extract<WorkerMessage, { type: 'checkpoint' | 'backend' | 'eval-cache-get' | 'eval-cache-put' | 'eval-task' | 'generation' }>

export interface JobContext {
  report(msg: JobReport): void
  progress(done: number, total: number, text?: string): void
  log(text: string, level?: 'info' | 'warn' | 'error'): void
  metric(step: number, values: Record<string, number>): void
  /** Call between units of work: resolves at once, waits while paused, throws JobCancelled. */
  pausePoint(): Promise<void>
}

export class JobCancelled extends Error {
  constructor() {
    super('cancelled')
  }
}

/** A context for running a job body inline (CLI, tests) with a progress callback. */
export function inlineContext(onProgress?: (done: number, total: number, text: string) => void, onLog?: (text: string) => void): JobContext {
  return {
    report: () => {},
    progress: (done, total, text = '') => onProgress?.(done, total, text),
    log: (text) => onLog?.(text),
    metric: () => {},
    pausePoint: () => new Promise((resolve) => setImmediate(resolve))
  }
}
