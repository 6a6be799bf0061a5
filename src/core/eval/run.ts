// Evaluate one task with a model: send every request of a type in one batch (the model or its
// cache orders and batches them), hand each document its results, aggregate each metric and
// attach the harness's standard error. Samples are kept for inspection.
import type { EvalRequest, EvalResult, GreedyUntilRequest, LoglikelihoodRequest, LoglikelihoodRollingRequest, MetricValue, TaskResult } from '../../shared/eval'
import { bootstrapStderr } from './metrics/bootstrap'
import { meanStderr } from './metrics/aggregate'
import type { BuiltDoc } from './build'
import type { LanguageModel } from './model'
import type { MetricItem, Task } from './tasks/types'

export interface Sample<D> {
  docId: number
  doc: D
  ctx: string
  requests: EvalRequest[]
  results: EvalResult[]
  metrics: Record<string, MetricItem>
}

export interface RunOptions {
  numFewshot: number
  /** the harness's default is 100000 (1000 for bleu / chrf / ter) */
  bootstrapIters?: number
}

export async function answerRequests(model: LanguageModel, requests: readonly EvalRequest[]): Promise<EvalResult[]> {
  const results = new Array<EvalResult>(requests.length)
  const byType = <R extends EvalRequest>(type: R['type']) => requests.flatMap((r, i) => (r.type === type ? [[r as R, i] as const] : []))
  const lls = byType<LoglikelihoodRequest>('loglikelihood')
  const rolling = byType<LoglikelihoodRollingRequest>('loglikelihood_rolling')
  const gen = byType<GreedyUntilRequest>('greedy_until')
  const place = <T extends EvalResult>(what: string, asked: readonly (readonly [EvalRequest, number])[], got: T[]) => {
    if (got.length !== asked.length) throw new Error(`model ${model.id} returned ${got.length} results for ${asked.length} ${what} requests`)
    got.forEach((res, k) => (results[asked[k][1]] = res))
  }
  if (lls.length) place('loglikelihood', lls, await model.loglikelihood(lls.map(([r]) => r)))
  if (rolling.length) place('loglikelihood_rolling', rolling, await model.loglikelihoodRolling(rolling.map(([r]) => r)))
  if (gen.length) place('greedy_until', gen, await model.greedyUntil(gen.map(([r]) => r)))
  return results
}

export async function runTask<D>(task: Task<D>, model: LanguageModel, built: BuiltDoc<D>[], options: RunOptions): Promise<{ result: TaskResult; samples: Sample<D>[] }> {
  const flat = built.flatMap((b) => b.requests)
  const answers = await answerRequests(model, flat)
  let at = 0
  const samples = built.map((b) => {
    const results = answers.slice(at, at + b.requests.length)
    at += b.requests.length
    return { ...b, results, metrics: task.processResults(b.doc, results) }
  })
  const iters = options.bootstrapIters ?? 100_000
  const metrics: Record<string, MetricValue> = {}
  for (const [name, agg] of Object.entries(task.aggregation)) {
    const items = samples.map((s) => {
      const item = s.metrics[name]
      if (item === undefined) throw new Error(`${task.name}: document ${s.docId} has no "${name}" item`)
      return item
    })
    const value = agg.aggregate(items)
    let stderr: number | null = null
    if (agg.stderr === 'mean') stderr = meanStderr(items as number[])
    else if (agg.stderr === 'bootstrap') stderr = bootstrapStderr(agg.aggregate, items, ['bleu', 'chrf', 'ter'].includes(name) ? Math.min(iters, 1000) : iters)
    metrics[name] = { value, stderr: stderr !== null && Number.isFinite(stderr) ? stderr : null, higherIsBetter: agg.higherIsBetter }
  }
  return { result: { task: task.name, version: task.version, numFewshot: options.numFewshot, documents: samples.length, metrics }, samples }
}
