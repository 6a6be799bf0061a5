// The worker <-> main message protocol. Workers never touch SQLite: they send these messages and
// the supervisor in main validates and persists them.
import { z } from 'zod'
import { EvalResultValue, EvalSample, TaskResult } from './eval'
import { GenerateRequestMessage, GenerateStopMessage, GenerationWorkerEvent, ServeStartMessage, ServeStopMessage, UnloadMessage } from './generate'

export const WorkerProgress = z.strictObject({
  type: z.literal('progress'),
  done: z.number().nonnegative(),
  total: z.number().nonnegative(),
  text: z.string().max(500).default('')
})

export const WorkerLog = z.strictObject({
  type: z.literal('log'),
  level: z.enum(['info', 'warn', 'error']).default('info'),
  text: z.string().max(10_000)
})

export const WorkerMetric = z.strictObject({
  type: z.literal('metric'),
  step: z.number().int().nonnegative(),
  values: z.record(z.string(), z.number())
})

export const WorkerResult = z.strictObject({
  type: z.literal('result'),
  result: z.unknown()
})

export const WorkerError = z.strictObject({
  type: z.literal('error'),
  message: z.string()
})

/** A training checkpoint folder, written completely. */
export const WorkerCheckpoint = z.strictObject({
  type: z.literal('checkpoint'),
  step: z.number().int().nonnegative(),
  dir: z.string(),
  bytes: z.number().int().nonnegative(),
  valLoss: z.number().nullable()
})

/** A resuming train worker has loaded its checkpoint whole (main drops the run's later metrics only then). */
export const WorkerResumed = z.strictObject({
  type: z.literal('resumed'),
  step: z.number().int().nonnegative()
})

/** The compute backend a worker settled on (recorded on the run). */
export const WorkerBackend = z.strictObject({
  type: z.literal('backend'),
  name: z.string(),
  detail: z.string()
})

/** Sent once a cancel request has been honoured, just before the worker exits. */
export const WorkerCancelled = z.strictObject({
  type: z.literal('cancelled'),
  /** What the job kept on its way out (a stopped training's checkpoint), shown as its last line. */ note: z.string().max(500).optional()
})

/** The eval worker asks main for the cached results of these request keys (main answers with eval-cache-hits). */
export const WorkerEvalCacheGet = z.strictObject({
  type: z.literal('eval-cache-get'),
  requestId: z.number().int().nonnegative(),
  fingerprint: z.string().min(1),
  keys: z.array(z.string())
})

export const EvalCacheEntry = z.strictObject({
  key: z.string().min(1),
  requestType: z.enum(['loglikelihood', 'loglikelihood_rolling', 'greedy_until']),
  args: z.unknown(),
  result: EvalResultValue
})
export type EvalCacheEntry = z.infer<typeof EvalCacheEntry>

/** Results the eval worker has just computed, for main to store in the request cache. */
export const WorkerEvalCachePut = z.strictObject({
  type: z.literal('eval-cache-put'),
  fingerprint: z.string().min(1),
  entries: z.array(EvalCacheEntry)
})

/** One task evaluated on one checkpoint (or the reason it could not be), with its scored samples. */
export const WorkerEvalTask = z.strictObject({
  type: z.literal('eval-task'),
  checkpoint: z.string(),
  fingerprint: z.string().min(1),
  task: z.string(),
  numFewshot: z.number().int().nonnegative(),
  limit: z.number().int().positive().nullable(),
  result: TaskResult.nullable(),
  error: z.string().nullable(),
  samples: z.array(EvalSample)
})

/** A generation worker's news: model ready, streamed tokens, a finished or failed generation. */
export const WorkerGeneration = z.strictObject({
  type: z.literal('generation'),
  event: GenerationWorkerEvent
})

export const WorkerMessage = z.discriminatedUnion('type', [
  WorkerProgress,
  WorkerLog,
  WorkerMetric,
  WorkerResult,
  WorkerError,
  WorkerCancelled,
  WorkerCheckpoint,
  WorkerResumed,
  WorkerBackend,
  WorkerEvalCacheGet,
  WorkerEvalCachePut,
  WorkerEvalTask,
  WorkerGeneration
])
export type WorkerMessage = z.infer<typeof WorkerMessage>

export const MainMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), jobId: z.number().int(), params: z.unknown() }),
  z.strictObject({ type: z.literal('pause') }),
  z.strictObject({ type: z.literal('resume') }),
  /** checkpoint: save the job's state before stopping (training: a checkpoint at the current step). */
  z.strictObject({ type: z.literal('cancel'), checkpoint: z.boolean().optional() }),
  /** main's answer to eval-cache-get: the entries it has (missing keys are simply absent). */
  z.strictObject({
    type: z.literal('eval-cache-hits'),
    requestId: z.number().int().nonnegative(),
    entries: z.array(z.strictObject({ key: z.string(), result: EvalResultValue }))
  }),
  /** Requests to a generation worker: generate (streamed back), stop one, unload the model. */
  GenerateRequestMessage,
  GenerateStopMessage,
  UnloadMessage,
  ServeStartMessage,
  ServeStopMessage
])
export type MainMessage = z.infer<typeof MainMessage>
