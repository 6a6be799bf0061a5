// Scored documents as the Evaluate view's inspector shows them: the prompt, each request (its
// context only where it differs from the prompt, as in partial-evaluation tasks), the model's
// answers, which choice it preferred, what it predicted and the task's target.
import type { EvalResult, EvalSample, SampleRequest } from '../../shared/eval'
import type { Sample } from './run'
import type { Task } from './tasks/types'

function sampleRequest(r: Sample<unknown>['requests'][number], prompt: string): SampleRequest {
  switch (r.type) {
    case 'loglikelihood':
      return { type: r.type, ...(r.context === prompt ? {} : { context: r.context }), continuation: r.continuation }
    case 'loglikelihood_rolling':
      return { type: r.type, text: r.text }
    case 'greedy_until':
      return { type: r.type, ...(r.context === prompt ? {} : { context: r.context }), stops: r.stops }
  }
}

function isLoglikelihood(r: EvalResult): r is { logprob: number; isGreedy: boolean } {
  return typeof r === 'object' && r !== null
}

function describePrediction(sample: Sample<unknown>): { predictedIndex: number | null; prediction: string } {
  const { requests, results } = sample
  const generated = results.find((r): r is string => typeof r === 'string')
  if (generated !== undefined) return { predictedIndex: null, prediction: generated }
  const lls = results.map((r, i) => (isLoglikelihood(r) ? { i, r } : null)).filter((x) => x !== null)
  if (lls.length === 1) return { predictedIndex: null, prediction: lls[0].r.isGreedy ? 'greedy: the model would write the target' : 'not greedy: the model would write something else' }
  if (lls.length > 1) {
    const best = lls.reduce((a, b) => (b.r.logprob > a.r.logprob ? b : a))
    const req = requests[best.i]
    const continuations = new Set(requests.map((q) => (q.type === 'loglikelihood' ? q.continuation : '')))
    // Partial evaluation (winogrande, wsc273) varies the context, not the continuation.
    const label = req.type === 'loglikelihood' ? (continuations.size > 1 ? req.continuation : `option ${best.i + 1}: ${req.context.slice(-60)}`) : `request ${best.i + 1}`
    return { predictedIndex: best.i, prediction: label }
  }
  const rolling = results.find((r): r is number => typeof r === 'number')
  return { predictedIndex: null, prediction: rolling === undefined ? '' : `log-likelihood ${rolling.toFixed(3)}` }
}

function target(task: Task, doc: unknown): string {
  try {
    return task.docToTarget(doc)
  } catch (e) {
    return `(no target: ${(e as Error).message})`
  }
}

export function toEvalSample(task: Task, sample: Sample<unknown>): EvalSample {
  return {
    docId: sample.docId,
    prompt: sample.ctx,
    requests: sample.requests.map((r) => sampleRequest(r, sample.ctx)),
    results: sample.results,
    ...describePrediction(sample),
    gold: target(task, sample.doc),
    metrics: Object.fromEntries(Object.entries(sample.metrics).map(([k, v]) => [k, typeof v === 'number' ? v : [...v]]))
  }
}
