// Evaluate a model on a list of tasks. A task whose data cannot be fetched (or parsed) is
// reported with the reason and skipped; the other tasks still run.
import type { TaskResult } from '../../shared/eval'
import { buildRequests } from './build'
import type { EvalDataStore } from './data/store'
import type { LanguageModel } from './model'
import { runTask, type Sample } from './run'
import { getTask } from './tasks/registry'

export interface EvaluateOptions {
  numFewshot: number
  limit?: number
  bootstrapIters?: number
  descriptions?: Record<string, string>
  onTaskDone?: (task: string, result: TaskResult) => void
}

export interface EvaluateOutcome {
  results: TaskResult[]
  samples: Record<string, Sample<unknown>[]>
  failures: { task: string; message: string }[]
}

export async function evaluateTasks(names: readonly string[], model: LanguageModel, store: EvalDataStore, options: EvaluateOptions): Promise<EvaluateOutcome> {
  const tasks = names.map(getTask) // unknown names fail here, before any work
  const out: EvaluateOutcome = { results: [], samples: {}, failures: [] }
  for (const task of tasks) {
    let built
    try {
      built = await buildRequests(task, store, { numFewshot: options.numFewshot, limit: options.limit, description: options.descriptions?.[task.name] })
    } catch (e) {
      out.failures.push({ task: task.name, message: (e as Error).message })
      continue
    }
    const { result, samples } = await runTask(task, model, built, { numFewshot: options.numFewshot, bootstrapIters: options.bootstrapIters })
    out.results.push(result)
    out.samples[task.name] = samples
    options.onTaskDone?.(task.name, result)
  }
  return out
}
