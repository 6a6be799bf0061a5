// Evaluation contracts shared by the eval worker, the engine that answers its requests, the
// request cache and (later) the Evaluate view: the three request types of lm-evaluation-harness,
// their results, and a task's aggregated metric values.
import { z } from 'zod'

/** log P(continuation | context); an empty context means "condition on end-of-text". */
export const LoglikelihoodRequest = z.strictObject({
  type: z.literal('loglikelihood'),
  context: z.string(),
  continuation: z.string().min(1)
})
export type LoglikelihoodRequest = z.infer<typeof LoglikelihoodRequest>

/** Summed log-likelihood of a whole text over windows of the model's context (perplexity tasks). */
export const LoglikelihoodRollingRequest = z.strictObject({
  type: z.literal('loglikelihood_rolling'),
  text: z.string()
})
export type LoglikelihoodRollingRequest = z.infer<typeof LoglikelihoodRollingRequest>

/** The harness's max_gen_toks: greedy_until's token budget when a request names none. */
export const MAX_GEN_TOKENS = 256

/** Greedy generation from the context until any stop string (or maxTokens; the harness's max_gen_toks is 256). */
export const GreedyUntilRequest = z.strictObject({
  type: z.literal('greedy_until'),
  context: z.string(),
  stops: z.array(z.string().min(1)),
  maxTokens: z.number().int().positive().optional()
})
export type GreedyUntilRequest = z.infer<typeof GreedyUntilRequest>

export const EvalRequest = z.discriminatedUnion('type', [LoglikelihoodRequest, LoglikelihoodRollingRequest, GreedyUntilRequest])
export type EvalRequest = z.infer<typeof EvalRequest>

export const LoglikelihoodResult = z.strictObject({ logprob: z.number(), isGreedy: z.boolean() })
export type LoglikelihoodResult = z.infer<typeof LoglikelihoodResult>

/** loglikelihood -> LoglikelihoodResult, loglikelihood_rolling -> number, greedy_until -> string. */
export type EvalResult = LoglikelihoodResult | number | string

export const MetricValue = z.strictObject({
  value: z.number(),
  /** null where the harness reports none (CB f1, MC-TACO em/f1). */
  stderr: z.number().nullable(),
  higherIsBetter: z.boolean()
})
export type MetricValue = z.infer<typeof MetricValue>

export const TaskResult = z.strictObject({
  task: z.string(),
  version: z.number().int(),
  numFewshot: z.number().int().nonnegative(),
  documents: z.number().int().nonnegative(),
  metrics: z.record(z.string(), MetricValue)
})
export type TaskResult = z.infer<typeof TaskResult>

/** An EvalResult as it crosses a process boundary (cache entries, samples). */
export const EvalResultValue = z.union([LoglikelihoodResult, z.number(), z.string()])

/** A per-document metric item: a number, or the tuple an aggregation reads (f1: [gold, pred]). */
export const MetricItemValue = z.union([z.number(), z.array(z.union([z.string(), z.number(), z.boolean()]))])

/** One request of a sample as the inspector shows it; `context` only where it differs from the prompt. */
export const SampleRequest = z.strictObject({
  type: z.enum(['loglikelihood', 'loglikelihood_rolling', 'greedy_until']),
  context: z.string().optional(),
  continuation: z.string().optional(),
  text: z.string().optional(),
  stops: z.array(z.string()).optional()
})
export type SampleRequest = z.infer<typeof SampleRequest>

/** A scored document, for "click a cell to inspect its samples". */
export const EvalSample = z.strictObject({
  docId: z.number().int().nonnegative(),
  prompt: z.string(),
  requests: z.array(SampleRequest),
  results: z.array(EvalResultValue),
  /** The request the model preferred (highest log-likelihood) where the task chooses among several. */
  predictedIndex: z.number().int().nullable(),
  /** What the model answered: the chosen continuation, the generated text, or whether it was greedy. */
  prediction: z.string(),
  /** The task's target for the document (doc_to_target). */
  gold: z.string(),
  metrics: z.record(z.string(), MetricItemValue)
})
export type EvalSample = z.infer<typeof EvalSample>

/** A task as the Evaluate view lists it. */
export interface EvalTaskInfo {
  name: string
  family: string
  version: number
  source: string
  split: 'train' | 'validation' | 'test'
  metrics: { name: string; higherIsBetter: boolean }[]
  /** Uses greedy_until (generation): slow, and the original never ran these on its own model. */
  generation: boolean
  zeroShotOnly: boolean
}

/** One cell of the results matrix: a checkpoint's value for a task's metric. */
export interface EvalResultRow {
  checkpoint: string
  fingerprint: string
  task: string
  version: number
  metric: string
  value: number
  stderr: number | null
  higherIsBetter: boolean
  numFewshot: number
  documents: number
  /** The per-task document limit of the evaluation that produced it (null: all documents). */
  limit: number | null
  jobId: number | null
  createdAt: number
}

/** A task the evaluation could not run for a checkpoint (its data could not be fetched, ...). */
export interface EvalTaskFailure {
  jobId: number | null
  checkpoint: string
  numFewshot: number
  task: string
  message: string
}

export interface EvalSamplePage {
  total: number
  samples: EvalSample[]
}
