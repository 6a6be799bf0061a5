// What the evaluator needs from a model: the three harness request types, answered in batches in
// the order given. The GPT engine implements this over a checkpoint; tests use a small real model.
import type { GreedyUntilRequest, LoglikelihoodRequest, LoglikelihoodResult, LoglikelihoodRollingRequest } from '../../shared/eval'

export interface LanguageModel {
  /** Identifies the weights (e.g. a checkpoint fingerprint): the request cache keys on it. */
  readonly id: string
  loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]>
  loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]>
  greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]>
}
