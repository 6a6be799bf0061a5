// The typed API: every method's input schema and reply type, and the events pushed to clients.
// All hosts (Electron IPC, the web host, the CLI) dispatch through the same table, and every
// input is parsed with these schemas before a service sees it.
import { z } from 'zod'
import type { ApiMethod } from './api-methods'
import type { RunBatchView } from './batch-view'
import type { DeviceReport } from './devices'
import { DEVICE_METRIC_NAME } from './device-figures'
import type { Preset } from './presets'
import type { CheckpointInfo, Dataset, MetricPoint, Run } from './runs'
import { type Job, type JobLogLine, JobSpec } from './jobs'
import type { DatasetDetail, DatasetSummary } from './config/prepare'
import { DeviceId, EngineChoice, TorchDtypeChoice, TrainConfig } from './config/train'
import { type RunOverlay, type RunSeries, SAVED_CONFIG_NAME, type SavedConfig } from './run-series'
import type { EvalResultRow, EvalSamplePage, EvalTaskFailure, EvalTaskInfo } from './eval'
import { type EvalWatch, EvalWatchInput } from './eval-watch'
import { type GenerateCheckpoint, GenerateStartInput, type GenerationEvent, type GenerationRecord, type ModelSession } from './generate'

const JobId = z.strictObject({ id: z.number().int().positive() })
const NoInput = z.undefined().or(z.strictObject({}))

export const ApiInputs = {
  'app.info': NoInput,
  /** python: the PyTorch interpreter to probe; refresh: probe it again rather than answer from the cache. */
  'devices.list': z.strictObject({ python: z.string().min(1).max(4096).optional(), refresh: z.boolean().optional() }).optional(),
  'jobs.list': z.strictObject({ limit: z.number().int().min(1).max(1000).default(200) }).optional(),
  'jobs.get': JobId,
  'jobs.logs': z.strictObject({
    id: z.number().int().positive(),
    afterId: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(5000).default(1000)
  }),
  'jobs.start': JobSpec,
  'jobs.pause': JobId,
  'jobs.resume': JobId,
  /** Stop a job; checkpoint (training, on by default): save a checkpoint at the current step first. */
  'jobs.cancel': z.strictObject({ id: z.number().int().positive(), checkpoint: z.boolean().optional() }),
  'samples.list': NoInput,
  'presets.list': NoInput,
  'datasets.list': NoInput,
  'runs.list': z.strictObject({ limit: z.number().int().min(1).max(1000).default(200) }).optional(),
  'runs.get': z.strictObject({ id: z.number().int().positive() }),
  'runs.metrics': z.strictObject({ id: z.number().int().positive(), afterStep: z.number().int().min(-1).default(-1) }),
  'prepare.list': NoInput,
  'prepare.get': z.strictObject({ id: z.string().min(1).max(200) }),
  'runs.series': z.strictObject({
    id: z.number().int().positive(),
    afterStep: z.number().int().min(-1).default(-1),
    /** Metric names: plain (loss) or a device's figure at its rank (rssMb@1). */
    names: z
      .array(z.string().refine((n) => /^[A-Za-z]+$/.test(n) || DEVICE_METRIC_NAME.test(n), 'a metric name (loss) or a device figure at a rank (rssMb@1)'))
      .max(32)
      .optional(),
    /** Only the last N points of each series. */
    tail: z.number().int().min(1).optional()
  }),
  /** Resume markers, superseded branches and eval scores drawn over a run's loss chart. */
  'runs.overlay': z.strictObject({ id: z.number().int().positive() }),
  /** The batch a run trained on at a step (or its validation batch), reproduced from the sampler; the first `rows` rows. */
  'runs.batch': z.strictObject({
    id: z.number().int().positive(),
    step: z.number().int().min(1),
    split: z.enum(['train', 'val']).default('train'),
    rows: z.number().int().min(1).max(256).default(8)
  }),
  'configs.list': NoInput,
  'configs.save': z.strictObject({ name: z.string().regex(SAVED_CONFIG_NAME, 'use letters, digits, spaces, dots, dashes or underscores (up to 80)'), config: TrainConfig }),
  'configs.delete': z.strictObject({ name: z.string().min(1).max(80) }),
  'evals.tasks': NoInput,
  'evals.results': z
    .strictObject({
      checkpoints: z.array(z.string().min(1)).max(1000).optional(),
      jobId: z.number().int().positive().optional(),
      numFewshot: z.number().int().nonnegative().optional()
    })
    .optional(),
  'evals.samples': z.strictObject({
    fingerprint: z.string().regex(/^[0-9a-f]{64}$/, 'a checkpoint fingerprint is 64 hex digits'),
    task: z.string().min(1).max(200),
    numFewshot: z.number().int().nonnegative().default(0),
    offset: z.number().int().nonnegative().default(0),
    limit: z.number().int().min(1).max(500).default(20)
  }),
  /** Evaluate a run's checkpoints as they are saved (replaces the settings of a run already watched). */
  'evals.watch': EvalWatchInput,
  'evals.unwatch': z.strictObject({ runId: z.number().int().positive() }),
  'evals.watches': NoInput,
  'generate.checkpoints': NoInput,
  'generate.models': NoInput,
  /** engine / device / dtype: which engine loads it (GenerateWorkerParams); a model loaded otherwise is loaded again. */
  'generate.load': z.strictObject({ checkpoint: z.string().min(1, 'pick a checkpoint').max(4096), engine: EngineChoice.optional(), device: DeviceId.optional(), dtype: TorchDtypeChoice.optional() }),
  'generate.unload': z.strictObject({ checkpoint: z.string().min(1).max(4096) }),
  /** The OpenAI-compatible API over a loaded model: on (127.0.0.1; port 0 or left out: a free one) or off. */
  'generate.serve': z.strictObject({ checkpoint: z.string().min(1).max(4096), on: z.boolean(), port: z.number().int().min(0).max(65535).optional() }),
  'generate.start': GenerateStartInput,
  'generate.stop': JobId,
  'generate.history': z.strictObject({ query: z.string().max(200).optional(), limit: z.number().int().min(1).max(500).default(50) }).optional(),
  'generate.get': JobId
} satisfies Record<ApiMethod, z.ZodType>

export interface AppInfo {
  version: string
  workspace: string
  host: 'electron' | 'web'
  node: string
}

export interface SampleText {
  name: string
  path: string
  bytes: number
  description: string
}

export interface LogPage {
  lines: (JobLogLine & { id: number })[]
}

export interface ApiReplies {
  'app.info': AppInfo
  'devices.list': DeviceReport
  'jobs.list': Job[]
  'jobs.get': Job
  'jobs.logs': LogPage
  'jobs.start': Job
  'jobs.pause': Job
  'jobs.resume': Job
  'jobs.cancel': Job
  'samples.list': SampleText[]
  'presets.list': Preset[]
  'datasets.list': Dataset[]
  'runs.list': Run[]
  'runs.get': Run & { checkpoints: CheckpointInfo[] }
  'runs.metrics': MetricPoint[]
  'prepare.list': DatasetSummary[]
  'prepare.get': DatasetDetail
  'runs.series': RunSeries
  'runs.batch': RunBatchView
  'runs.overlay': RunOverlay
  'configs.list': SavedConfig[]
  'configs.save': SavedConfig
  'configs.delete': SavedConfig[]
  'evals.tasks': EvalTaskInfo[]
  'evals.results': EvalMatrix
  'evals.samples': EvalSamplePage
  'evals.watch': EvalWatch
  'evals.unwatch': EvalWatch[]
  'evals.watches': EvalWatch[]
  'generate.checkpoints': GenerateCheckpoint[]
  'generate.models': ModelSession[]
  'generate.load': ModelSession
  'generate.unload': ModelSession[]
  'generate.serve': ModelSession
  'generate.start': GenerationRecord
  'generate.stop': GenerationRecord
  'generate.history': GenerationRecord[]
  'generate.get': GenerationRecord
}

/** The results matrix's cells and the tasks that could not run. */
export interface EvalMatrix {
  rows: EvalResultRow[]
  failures: EvalTaskFailure[]
}

export type ApiInput<M extends ApiMethod> = z.input<(typeof ApiInputs)[M]>
export type ApiParsedInput<M extends ApiMethod> = z.output<(typeof ApiInputs)[M]>
export type ApiReply<M extends ApiMethod> = ApiReplies[M]

/** Events pushed from main to every connected client. */
export type ApiEvent =
  | { event: 'job'; data: Job }
  | { event: 'log'; data: JobLogLine & { id: number } }
  | { event: 'metric'; data: { runId: number; step: number; values: Record<string, number> } }
  /** An eval job finished a task on a checkpoint: the matrix cells it filled (or why it could not). */
  | { event: 'eval'; data: EvalMatrix & { jobId: number } }
  /** The watched runs changed: watched or unwatched, an eval job started or ended, a checkpoint waits. */
  | { event: 'eval-watch'; data: EvalWatch[] }
  /** Generation: a model loaded or unloaded, a generation started, its tokens as they come, its end. */
  | { event: 'generation'; data: GenerationEvent }

/** Every reply crosses the boundary in this envelope, so errors arrive as data, not exceptions. */
export type Envelope<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } }

/** A problem with the caller's input or request, as opposed to a fault inside the service. */
export class ApiError extends Error {
  constructor(
    readonly code: 'bad_input' | 'not_found' | 'conflict' | 'unavailable' | 'forbidden',
    message: string
  ) {
    super(message)
  }
}

/** Formats a zod error as one readable line per problem, naming the field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length ? issue.path.join('.') : 'input'}: ${issue.message}`).join('; ')
}

export function parseInput<M extends ApiMethod>(method: M, input: unknown): ApiParsedInput<M> {
  const schema = ApiInputs[method]
  const parsed = schema.safeParse(input)
  if (!parsed.success) throw new ApiError('bad_input', `${method}: ${describeZodError(parsed.error)}`)
  return parsed.data as ApiParsedInput<M>
}
