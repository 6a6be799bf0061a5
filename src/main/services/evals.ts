// Evaluations: turns an eval request into worker parameters (checkpoint folders checked, named
// after their run where they belong to one), answers the eval worker's request-cache lookups and
// stores what it streams back (cache entries, task results, samples) in SQLite, and serves the
// task catalogue, the results matrix and the samples to the API.
import fs from 'node:fs'
import path from 'node:path'
import { ApiError, type ApiEvent } from '../../shared/api'
import type { EvalConfig, EvalWorkerParams } from '../../shared/config/eval'
import type { EvalResultRow, EvalSamplePage, EvalTaskFailure, EvalTaskInfo } from '../../shared/eval'
import type { Job } from '../../shared/jobs'
import { generationTasks } from '../../core/eval/tasks/generation'
import { TASKS } from '../../core/eval/tasks/registry'
import { evalSplit } from '../../core/eval/tasks/types'
import { checkpointMemoryProblem } from '../../core/memory-admission'
import type { EvalWorkerEvent, JobSupervisor } from './jobs/supervisor'
import type { Db } from './store/database'
import { EvalCacheRepo } from './store/eval-cache-repo'
import { EvalResultsRepo, type ResultsQuery } from './store/eval-results-repo'
import type { RunsRepo } from './store/runs-repo'
import type { Workspace } from './workspace'

const GENERATION = new Set(generationTasks.map((t) => t.name))

export function taskCatalogue(): EvalTaskInfo[] {
  return TASKS.map((t) => ({
    name: t.name,
    family: t.family,
    version: t.version,
    source: t.source,
    split: evalSplit(t),
    metrics: Object.entries(t.aggregation).map(([name, a]) => ({ name, higherIsBetter: a.higherIsBetter })),
    generation: GENERATION.has(t.name),
    zeroShotOnly: t.zeroShotOnly === true
  }))
}

/** Refuses unknown task names, and few-shot examples for the harness's zero-shot-only tasks. */
export function checkTasks(tasks: readonly string[], numFewshot: number): void {
  const known = new Set(TASKS.map((t) => t.name))
  const unknown = tasks.filter((t) => !known.has(t))
  if (unknown.length) throw new ApiError('bad_input', `Unknown eval task${unknown.length > 1 ? 's' : ''} ${unknown.map((t) => `"${t}"`).join(', ')}. Known tasks: ${[...known].join(', ')}.`)
  const zeroShot = TASKS.filter((t) => t.zeroShotOnly && tasks.includes(t.name)).map((t) => t.name)
  if (numFewshot > 0 && zeroShot.length)
    throw new ApiError(
      'bad_input',
      `${zeroShot.join(', ')} ${zeroShot.length > 1 ? 'are' : 'is'} zero-shot only (the harness asserts num_fewshot == 0); evaluate ${zeroShot.length > 1 ? 'them' : 'it'} with numFewshot 0.`
    )
}

export class EvalService {
  readonly cache: EvalCacheRepo
  readonly results: EvalResultsRepo

  constructor(
    private readonly workspace: Workspace,
    db: Db,
    private readonly supervisor: JobSupervisor,
    private readonly runs: RunsRepo,
    private readonly emit: (event: ApiEvent) => void
  ) {
    this.cache = new EvalCacheRepo(db)
    this.results = new EvalResultsRepo(db)
    supervisor.on('eval', (e) => this.onWorker(e))
  }

  start(config: EvalConfig): Job {
    return this.supervisor.start({ kind: 'eval', params: this.resolve(config) })
  }

  /** Checks the tasks and folders before a worker starts, and names each checkpoint. */
  resolve(config: EvalConfig): EvalWorkerParams {
    checkTasks(config.tasks, config.numFewshot)
    const dirs = [...new Set(config.checkpoints.map((c) => path.resolve(c)))]
    for (const dir of dirs) {
      for (const file of ['model.safetensors', 'config.json']) {
        if (!fs.existsSync(path.join(dir, file)))
          throw new ApiError('bad_input', `${dir} is not a checkpoint folder: it has no ${file}. Choose a run's step-N folder or a folder with model.safetensors and config.json.`)
      }
      // The eval worker loads one checkpoint at a time: each must fit on its own.
      const tooLarge = checkpointMemoryProblem(dir)
      if (tooLarge) throw new ApiError('bad_input', tooLarge)
    }
    return { config: { ...config, checkpoints: dirs }, checkpoints: dirs.map((dir) => ({ dir, label: this.label(dir) })), dataDir: this.workspace.evalDataDir }
  }

  tasks(): EvalTaskInfo[] {
    return taskCatalogue()
  }

  matrix(q: ResultsQuery): { rows: EvalResultRow[]; failures: EvalTaskFailure[] } {
    return { rows: this.results.results(q), failures: this.results.failures(q) }
  }

  samples(fingerprint: string, task: string, numFewshot: number, offset: number, limit: number): EvalSamplePage {
    return this.results.samples(fingerprint, task, numFewshot, offset, limit)
  }

  /** "run 3 (tiny-cpu) step 200" for a run's checkpoint, else the folder's last two path parts. */
  label(dir: string): string {
    for (const run of this.runs.list(1000)) {
      const c = this.runs.checkpoints(run.id).find((x) => path.resolve(x.path) === dir)
      if (c) return `run ${run.id} (${run.name}) step ${c.step}`
    }
    return dir.split(path.sep).slice(-2).join(path.sep)
  }

  private onWorker({ jobId, message: m }: EvalWorkerEvent): void {
    switch (m.type) {
      case 'eval-cache-get': {
        const hits = this.cache.get(m.fingerprint, m.keys)
        this.supervisor.sendToWorker(jobId, { type: 'eval-cache-hits', requestId: m.requestId, entries: [...hits].map(([key, result]) => ({ key, result })) })
        break
      }
      case 'eval-cache-put':
        this.cache.put(m.fingerprint, m.entries)
        break
      case 'eval-task': {
        const rows = this.results.record({
          jobId,
          checkpoint: m.checkpoint,
          fingerprint: m.fingerprint,
          task: m.task,
          numFewshot: m.numFewshot,
          limit: m.limit,
          result: m.result,
          error: m.error,
          samples: m.samples
        })
        const failures: EvalTaskFailure[] = m.error ? [{ jobId, checkpoint: m.checkpoint, numFewshot: m.numFewshot, task: m.task, message: m.error }] : []
        this.emit({ event: 'eval', data: { jobId, rows, failures } })
        break
      }
    }
  }
}
