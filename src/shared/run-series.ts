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
