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
