// Job contracts shared by main, renderer and workers: kinds, states, rows and their parameters.
import { z } from 'zod'

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

/** Every job kind with the schema of its parameters; new kinds are added by later features. */
export const JobSpec = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('tokenize'), params: TokenizeParams })
])
export type JobSpec = z.infer<typeof JobSpec>
export type JobKind = JobSpec['kind']

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
