// Job contracts shared by main, renderer and workers: kinds, states, rows and their parameters.
import { z } from 'zod'
import { TrainConfig } from './config/train'
import { PrepareParams } from './config/prepare'
import { EvalConfig } from './config/eval'
import { GenerateWorkerParams } from './generate'

export const JOB_STATES = ['queued', 'running', 'paused', 'done', 'failed', 'cancelled'] as const
export type JobState = (typeof JOB_STATES)[number]
export const ACTIVE_STATES: readonly JobState[] = ['queued', 'running', 'paused']

/** Tokenize a text, loose-JSON or JSONL file into GPT-2 token shards (train.bin / val.bin + meta.json). */
export const TokenizeParams = z.strictObject({
  input: z.string().min(1, 'input file is required'),
  outDir: z.string().min(1).optional(),
  valFraction: z.number().min(0).max(0.5).default(0),
  name: z.string().min(1).max(200).optional()
})
export type TokenizeParams = z.infer<typeof TokenizeParams>

/** Train a model: a new run from a config (or a preset by name), or resume a run from a checkpoint. */
export const TrainParams = z
  .strictObject({
    config: TrainConfig.optional(),
    preset: z
      .string()
      .regex(/^[a-z0-9.-]+$/)
      .optional(),
    /** Overrides applied on top of a preset (e.g. steps). */
    steps: z.number().int().min(1).optional(),
    dataset: z.string().min(1).optional(),
    resume: z.strictObject({ runId: z.number().int().positive(), step: z.number().int().nonnegative().optional() }).optional()
  })
  .refine((p) => Number(!!p.config) + Number(!!p.preset) + Number(!!p.resume) === 1, {
    message: 'give exactly one of config, preset or resume'
  })
export type TrainParams = z.infer<typeof TrainParams>

/** What the train worker receives once main has resolved the run, its folder and its data. */
export const TrainWorkerParams = z.strictObject({
  config: TrainConfig,
  runId: z.number().int().positive(),
  runDir: z.string(),
  datasetDir: z.string(),
  /** A checkpoint folder to continue from. */
  resumeDir: z.string().optional()
})
export type TrainWorkerParams = z.infer<typeof TrainWorkerParams>

/** Every job kind with the schema of its parameters; new kinds are added by later features. */
export const JobSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tokenize'), params: TokenizeParams }),
  z.strictObject({ kind: z.literal('train'), params: TrainParams }),
  z.strictObject({ kind: z.literal('prepare'), params: PrepareParams }),
  z.strictObject({ kind: z.literal('eval'), params: EvalConfig }),
  /** A loaded model serving generation requests until it is unloaded (see shared/generate.ts). */
  z.strictObject({ kind: z.literal('generate'), params: GenerateWorkerParams })
])
export type JobSpec = z.infer<typeof JobSpec>
export type JobKind = JobSpec['kind']

/**
 * How a job of many parts (an eval's task x checkpoint runs) ended: how many parts ran, how many
 * failed, and the distinct causes with their counts. A job whose parts all failed ends `failed`;
 * one with some failed ends `done` and reads "partly failed". Carried as `result.outcome`; rows
 * written before it existed read as null.
 */
export const JobOutcome = z.object({
  total: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  /** What a part is called in messages ("task runs"). */
  unit: z.string().optional(),
  errors: z.array(z.object({ message: z.string(), count: z.number().int().positive() }))
})
export type JobOutcome = z.infer<typeof JobOutcome>

/** Distinct messages with how often each came, in first-seen order: one line per cause, not per attempt. */
export function groupErrors(messages: readonly string[]): JobOutcome['errors'] {
  const counts = new Map<string, number>()
  for (const m of messages) counts.set(m, (counts.get(m) ?? 0) + 1)
  return [...counts].map(([message, count]) => ({ message, count }))
}

/** The outcome a finished job's result carries (null for jobs without parts and for old rows). */
export function outcomeOf(result: unknown): JobOutcome | null {
  const o = (result as { outcome?: unknown } | null)?.outcome
  const parsed = o === undefined ? null : JobOutcome.safeParse(o)
  return parsed?.success ? parsed.data : null
}

/** The failure text of a job whose parts all failed: a headline, then one line per distinct cause with its count. */
export function describeFailures(o: JobOutcome): string {
  const unit = o.unit ?? 'parts'
  const head = o.failed === o.total ? `All ${o.total} ${unit} failed` : `${o.failed} of ${o.total} ${unit} failed`
  return [`${head}${o.errors.length > 1 ? ` (${o.errors.length} causes)` : ''}:`, ...o.errors.map((e) => `${e.count} × ${e.message}`)].join('\n')
}

/** "partly failed" when some parts failed, else the state itself. */
export function stateLabel(job: Pick<Job, 'state' | 'outcome'>): string {
  return job.state === 'done' && job.outcome && job.outcome.failed > 0 ? 'partly failed' : job.state
}

export interface Job {
  id: number
  kind: JobKind
  state: JobState
  params: unknown
  /** 0..1 */
  progress: number
  /** A one-line description of the progress, e.g. "12.3 MB of 40 MB, 2.1 MB/s". */
  progressText: string
  error: string | null
  result: unknown
  /** Parts run and failed, for jobs made of parts (eval); null otherwise. */
  outcome: JobOutcome | null
  createdAt: number
  startedAt: number | null
  endedAt: number | null
}

export interface JobLogLine {
  jobId: number
  ts: number
  level: 'info' | 'warn' | 'error'
  text: string
}
