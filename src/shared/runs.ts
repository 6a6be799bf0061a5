// Training runs as the UI and CLI see them: the run, its checkpoints and its metric series.
import type { TrainConfig } from './config/train'

export interface Run {
  id: number
  name: string
  jobId: number | null
  config: TrainConfig
  backend: string | null
  devices: string[]
  dir: string
  datasetDir: string | null
  createdAt: number
}

export interface CheckpointInfo {
  id: number
  runId: number
  step: number
  path: string
  bytes: number
  valLoss: number | null
  pinned: boolean
  createdAt: number
}

export interface MetricPoint {
  step: number
  name: string
  value: number
  ts: number
}

export interface Dataset {
  id: number
  name: string
  kind: 'tokens'
  path: string
  meta: { trainTokens?: number; valTokens?: number; source?: string }
  createdAt: number
}
