// The worker <-> main message protocol. Workers never touch SQLite: they send these messages and
// the supervisor in main validates and persists them.
import { z } from 'zod'

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

/** The compute backend a worker settled on (recorded on the run). */
export const WorkerBackend = z.strictObject({
  type: z.literal('backend'),
  name: z.string(),
  detail: z.string()
})

/** Sent once a cancel request has been honoured, just before the worker exits. */
export const WorkerCancelled = z.strictObject({ type: z.literal('cancelled') })

export const WorkerMessage = z.discriminatedUnion('type', [
  WorkerProgress,
  WorkerLog,
  WorkerMetric,
  WorkerResult,
  WorkerError,
  WorkerCancelled,
  WorkerCheckpoint,
  WorkerBackend
])
export type WorkerMessage = z.infer<typeof WorkerMessage>

export const MainMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('start'), jobId: z.number().int(), params: z.unknown() }),
  z.strictObject({ type: z.literal('pause') }),
  z.strictObject({ type: z.literal('resume') }),
  z.strictObject({ type: z.literal('cancel') })
])
export type MainMessage = z.infer<typeof MainMessage>
