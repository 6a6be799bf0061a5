// Evaluating a run's checkpoints during training: what the user asks for (a run and the eval
// settings to apply to each checkpoint it saves) and what the workbench reports back about it.
import { z } from 'zod'
import { EvalConfig } from './config/eval'
import type { JobState } from './jobs'

/** The eval settings applied to each checkpoint of a watched run (an EvalConfig less its checkpoints). */
export const EvalWatchSettings = EvalConfig.pick({ tasks: true, numFewshot: true, limit: true, batchSize: true, sources: true, backend: true })
export type EvalWatchSettings = z.infer<typeof EvalWatchSettings>

/** `evals.watch`: evaluate this run's checkpoints as they are saved, with these settings. */
export const EvalWatchInput = EvalWatchSettings.extend({ runId: z.number().int().positive() })
export type EvalWatchInput = z.input<typeof EvalWatchInput>

/** A watched run as the API reports it. */
export interface EvalWatch {
  runId: number
  settings: EvalWatchSettings
  createdAt: number
  /** The eval job evaluating one of the run's checkpoints now (at most one per run). */
  active: { jobId: number; step: number; checkpoint: string } | null
  /** The latest checkpoint waiting for the active job to end; older waiting ones are skipped. */
  pendingStep: number | null
  /** The last eval job this watch started, and how it ended (null while it runs). */
  last: { jobId: number; step: number; state: JobState | null; /** "partly failed" for a done job whose tasks partly failed, else the state. */ label: string | null } | null
}

/** "copa, hellaswag, 0-shot, limit 20" */
export function describeWatch(s: EvalWatchSettings): string {
  return `${s.tasks.join(', ')}, ${s.numFewshot}-shot${s.limit ? `, limit ${s.limit}` : ''}`
}
