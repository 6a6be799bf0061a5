// Metric series in columns (compact over the wire: a 100k-step run is two number arrays per
// metric, not 100k objects) and training configs saved by name.
import type { TrainConfig } from './config/train'

export interface SeriesColumns {
  step: number[]
  value: number[]
}

export interface RunSeries {
  runId: number
  /** Metric name (loss, valLoss, lr, gradNorm, tokensPerSec, tokens, elapsed) -> its points by step. */
  series: Record<string, SeriesColumns>
}

/** A config saved from the Train view: a JSON file in the workspace that `gptw train --config` also reads. */
export interface SavedConfig {
  name: string
  path: string
  /** null when the file no longer parses as a TrainConfig; `error` says why. */
  config: TrainConfig | null
  error: string | null
  updatedAt: number
}

export const SAVED_CONFIG_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/

/** Where a run was resumed: from which checkpoint step, by which job, on what. */
export interface ResumeEvent {
  id: number
  runId: number
  jobId: number | null
  /** The checkpoint step the job continued from: its first new step is fromStep + 1. */
  fromStep: number
  /** The config's engine (embedded / pytorch / auto) and devices; the backend the worker reported (null until it does). */
  engine: string
  backend: string | null
  devices: string[]
  startedAt: number
  /** When the worker had loaded the checkpoint; null while it has not (the run's later rows are still the old ones). */
  loadedAt: number | null
}

/** The rows a resume took off the run's line (steps past fromStep trained before it): kept as a branch, not deleted. */
export interface SupersededBranch {
  resumeId: number
  series: Record<string, SeriesColumns>
}

/** One eval score of one of a run's checkpoints, placed at the checkpoint's step. */
export interface EvalPoint {
  checkpoint: string
  step: number
  task: string
  metric: string
  numFewshot: number
  value: number
  stderr: number | null
  higherIsBetter: boolean
  createdAt: number
}

/** What the loss chart draws over a run's series: resume markers, superseded branches, eval scores. */
export interface RunOverlay {
  runId: number
  resumes: ResumeEvent[]
  branches: SupersededBranch[]
  evals: EvalPoint[]
}

/** A run's metric series by name, as the charts hold them. */
export type Series = Record<string, SeriesColumns>
/** What a run chart's x axis counts. */
export type XAxis = 'step' | 'tokens' | 'time'
