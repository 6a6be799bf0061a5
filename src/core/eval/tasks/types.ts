// A task as the harness defines one: where its documents come from, which split is evaluated, how
// a document becomes a prompt (doc_to_text), its gold continuation (doc_to_target), the requests it
// makes of the model, the per-document metric items, and how those aggregate.
import type { EvalRequest, EvalResult, LoglikelihoodResult } from '../../../shared/eval'
import type { EvalDataStore } from '../data/store'

export type Split = 'train' | 'validation' | 'test'

/** A per-document metric item: a number (acc, em...) or a tuple the aggregation reads (f1, mcc, bleu). */
export type MetricItem = number | readonly (string | number | boolean)[]

export interface Aggregation {
  /** items -> corpus value */
  aggregate: (items: MetricItem[]) => number
  /** how the harness estimates its standard error */
  stderr: 'mean' | 'bootstrap' | 'none'
  higherIsBetter: boolean
}

export interface Task<D = unknown> {
  name: string
  version: number
  family: string
  /** Human-readable provenance: the file or dataset the harness reads. */
  source: string
  splits: Partial<Record<Split, true>>
  loadDocs(split: Split, store: EvalDataStore): Promise<D[]>
  /** Few-shot pool when it is not the train split (hendrycksTest: dev/, wsc273: test docs). */
  fewshotDocs?(store: EvalDataStore): Promise<D[]>
  /** Tasks the harness asserts are zero-shot only (prost, blimp). */
  zeroShotOnly?: boolean
  docToText(doc: D): string
  docToTarget(doc: D): string
  constructRequests(doc: D, ctx: string): EvalRequest[]
  processResults(doc: D, results: EvalResult[]): Record<string, MetricItem>
  aggregation: Record<string, Aggregation>
}

/** test docs if the task has them, else validation: the evaluator's choice. */
export function evalSplit(task: Task): Split {
  if (task.splits.test) return 'test'
  if (task.splits.validation) return 'validation'
  throw new Error(`${task.name} has neither test nor validation documents`)
}

export function llResult(r: EvalResult | undefined): LoglikelihoodResult {
  if (typeof r !== 'object' || r === null) throw new Error(`expected a loglikelihood result, got ${JSON.stringify(r)}`)
  return r
}

export function textResult(r: EvalResult | undefined): string {
  if (typeof r !== 'string') throw new Error(`expected a generated string, got ${JSON.stringify(r)}`)
  return r
}

export const ll = (context: string, continuation: string): EvalRequest => ({ type: 'loglikelihood', context, continuation })
export const until = (context: string, stops: string[]): EvalRequest => ({ type: 'greedy_until', context, stops })

export function defineTask<D>(task: Task<D>): Task<D> {
  return task
}
