// The eval job: fetch every task's data and build its requests once (a task whose data cannot be
// fetched is reported and the others run), then for each checkpoint load the GPT, answer the
// requests through the request cache and score each task, streaming every task's result and
// samples to main as soon as it is done.
import type { EvalCheckpointRef, EvalEngineRan, EvalWorkerParams } from '../../shared/config/eval'
import type { MetricValue, TaskResult } from '../../shared/eval'
import { type JobOutcome, groupErrors } from '../../shared/jobs'
import type { JobContext } from '../job-context'
import { type BackendName, describeBackend, initBackend } from '../engine/backend'
import { loadTraining } from '../engine/checkpoint-tf'
import type { GPT } from '../engine/model'
import { type BuiltDoc, buildRequests } from './build'
import { CachedLanguageModel, type RequestType } from './cache/cached-model'
import type { EvalCacheStore } from './cache/store'
import { EvalDataStore } from './data/store'
import { GPTLanguageModel } from './engine/gpt-model'
import { TorchLanguageModel, resolveEvalEngine, startModelServers, torchPython } from './engine/torch-model'
import type { LanguageModel } from './model'
import { checkpointFingerprint } from './fingerprint'
import { EvalProgress } from './progress'
import { runTask } from './run'
import { toEvalSample } from './samples'
import { getTask } from './tasks/registry'
import type { Task } from './tasks/types'

export interface CheckpointSummary {
  checkpoint: string
  label: string
  fingerprint: string
  /** Distinct requests answered from the cache and by the model. */
  cached: number
  computed: number
  requestsPerSecond: number
}

export interface EvalJobSummary {
  checkpoints: CheckpointSummary[]
  results: { checkpoint: string; fingerprint: string; result: TaskResult }[]
  failures: { checkpoint: string; task: string; message: string }[]
  /** Task runs (task x checkpoint) and those that failed, causes grouped: all failed ends the job failed. */
  outcome: JobOutcome
  /** The engine that answered (auto resolved) and how: its devices and dtype, or the embedded backend; null when no checkpoint was opened. */
  engine: EvalEngineRan | null
}

interface BuiltTask {
  task: Task
  built: BuiltDoc<unknown>[]
  requests: number
}

const CHUNK: Record<RequestType, number> = { loglikelihood: 8, loglikelihood_rolling: 2, greedy_until: 1 }

/** Metric values JSON can carry: a non-finite one (an overflowing perplexity) is left out and said so. */
function finiteMetrics(result: TaskResult, warn: (text: string) => void): TaskResult {
  const metrics: Record<string, MetricValue> = {}
  for (const [name, m] of Object.entries(result.metrics)) {
    if (Number.isFinite(m.value)) metrics[name] = m
    else warn(`${result.task}: ${name} is ${m.value}, which cannot be recorded; it is left out.`)
  }
  return { ...result, metrics }
}

async function buildAll(params: EvalWorkerParams, ctx: JobContext, store: EvalDataStore, fail: (task: string, message: string) => void): Promise<BuiltTask[]> {
  const { config } = params
  const out: BuiltTask[] = []
  for (const [i, name] of config.tasks.entries()) {
    await ctx.pausePoint()
    ctx.progress(0, 1, `preparing ${name} (${i + 1}/${config.tasks.length})`)
    try {
      const task = getTask(name)
      const built = await buildRequests(task, store, { numFewshot: config.numFewshot, limit: config.limit, description: config.descriptions?.[name] })
      out.push({ task, built, requests: built.reduce((n, b) => n + b.requests.length, 0) })
      ctx.log(`${name}: ${built.length} documents, ${out.at(-1)!.requests} requests.`)
    } catch (e) {
      fail(name, (e as Error).message)
    }
  }
  return out
}

export async function evalJob(
  params: EvalWorkerParams,
  ctx: JobContext,
  cache: EvalCacheStore | null,
  load: (dir: string) => GPT = (dir) => loadTraining(dir, { modelOnly: true }).model
): Promise<EvalJobSummary> {
  const { config } = params
  const engine = await resolveEvalEngine(config)
  let python: string | null = null
  let backendDetail = ''
  if (engine === 'pytorch') {
    const report = await torchPython(config.python)
    python = report.python
    ctx.report({ type: 'backend', name: 'pytorch', detail: `torch ${report.torch} on ${config.devices.join(', ')}, dtype ${config.dtype} asked` })
  } else {
    const backend = await initBackend(config.backend === 'auto' ? 'auto' : (config.backend as BackendName))
    ctx.report({ type: 'backend', name: backend.name, detail: backend.detail })
    backendDetail = describeBackend(backend)
  }
  const summary: EvalJobSummary = { checkpoints: [], results: [], failures: [], outcome: { total: 0, failed: 0, unit: 'task runs', errors: [] }, engine: null }

  const fingerprints: string[] = []
  for (const c of params.checkpoints) fingerprints.push(await checkpointFingerprint(c.dir))

  const store = new EvalDataStore(params.dataDir, config.sources, undefined /* fetch through the address guard */, (task, file, bytes, total) =>
    ctx.progress(0, 1, `downloading ${task}/${file}: ${(bytes / 1e6).toFixed(1)}${total ? ` of ${(total / 1e6).toFixed(1)}` : ''} MB`)
  )
  const failedTasks: { task: string; message: string }[] = []
  const tasks = await buildAll(params, ctx, store, (task, message) => {
    failedTasks.push({ task, message })
    ctx.log(`${task} skipped: ${message}`, 'warn')
  })
  for (const [k, c] of params.checkpoints.entries()) {
    for (const f of failedTasks) {
      summary.failures.push({ checkpoint: c.dir, ...f })
      ctx.report({
        type: 'eval-task',
        checkpoint: c.dir,
        fingerprint: fingerprints[k],
        task: f.task,
        numFewshot: config.numFewshot,
        limit: config.limit ?? null,
        result: null,
        error: f.message,
        samples: []
      })
    }
  }

  const perCheckpoint = tasks.reduce((n, t) => n + t.requests, 0)
  const progress = new EvalProgress(perCheckpoint * params.checkpoints.length, (done, total, text) => ctx.progress(done, total, text))
  // with no task left to run, loading the checkpoints would only delay the verdict
  if (tasks.length) {
    for (const [k, ref] of params.checkpoints.entries()) {
      const open = (): Promise<OpenedModel> =>
        python ? openTorch(ref.dir, fingerprints[k], config, python) : Promise.resolve(openEmbedded(load(ref.dir), fingerprints[k], config.batchSize, backendDetail))
      summary.checkpoints.push(await evaluateCheckpoint(ref, fingerprints[k], `ckpt ${k + 1}/${params.checkpoints.length}`, tasks, params, ctx, cache, open, progress, summary))
    }
  }
  summary.outcome = {
    total: config.tasks.length * params.checkpoints.length,
    failed: summary.failures.length,
    unit: 'task runs',
    errors: groupErrors(summary.failures.map((f) => f.message))
  }
  // done = total: the runtime's throttle always lets a final line through (main sets the bar from the outcome)
  ctx.progress(1, 1, outcomeLine(summary.outcome, params.checkpoints.length))
  return summary
}

/** The job's last progress line: how it ended, not the step it was on. */
function outcomeLine(o: JobOutcome, checkpoints: number): string {
  const runs = (n: number) => `${n} task run${n === 1 ? '' : 's'}`
  const on = ` on ${checkpoints} checkpoint${checkpoints === 1 ? '' : 's'}`
  if (o.failed === 0) return `done: ${runs(o.total)}${on}`
  if (o.failed === o.total) return `failed: all ${runs(o.total)}${on} failed (${o.errors.length} cause${o.errors.length === 1 ? '' : 's'})`
  return `partly failed: ${o.failed} of ${runs(o.total)} failed, ${o.total - o.failed} ran${on}`
}

async function evaluateCheckpoint(
  ref: EvalCheckpointRef,
  fingerprint: string,
  tag: string,
  tasks: BuiltTask[],
  params: EvalWorkerParams,
  ctx: JobContext,
  cache: EvalCacheStore | null,
  open: () => Promise<OpenedModel>,
  progress: EvalProgress,
  summary: EvalJobSummary
): Promise<CheckpointSummary> {
  const { config } = params
  await ctx.pausePoint()
  const opened = await open()
  summary.engine = opened.engine
  let where = tag
  try {
    ctx.log(`${ref.label}: ${opened.description}; fingerprint ${fingerprint.slice(0, 12)}.`)
    const model = new CachedLanguageModel(opened.model, {
      fingerprint,
      store: config.noCache ? null : cache,
      chunkSize: (type) => CHUNK[type] * config.batchSize,
      between: async () => {
        await ctx.pausePoint()
        progress.resumeClock()
      },
      onAnswered: (count, source) => progress.answered(count, source, where)
    })
    for (const { task, built } of tasks) {
      where = `${tag} ${ref.label} | ${task.name}`
      await ctx.pausePoint()
      progress.resumeClock()
      const { result, samples } = await runTask(task, model, built, { numFewshot: config.numFewshot, bootstrapIters: config.bootstrapIters })
      const recorded = finiteMetrics(result, (t) => ctx.log(t, 'warn'))
      summary.results.push({ checkpoint: ref.dir, fingerprint, result: recorded })
      ctx.report({
        type: 'eval-task',
        checkpoint: ref.dir,
        fingerprint,
        task: task.name,
        numFewshot: config.numFewshot,
        limit: config.limit ?? null,
        result: recorded,
        error: null,
        samples: samples.map((s) => toEvalSample(task, s))
      })
      ctx.log(
        `${ref.label} | ${task.name}: ${Object.entries(recorded.metrics)
          .map(([m, v]) => `${m} ${v.value.toFixed(4)}${v.stderr === null ? '' : ` ± ${v.stderr.toFixed(4)}`}`)
          .join(', ')}`
      )
    }
    ctx.log(`${ref.label}: ${model.stats.cached} requests from the cache, ${model.stats.computed} computed${config.noCache ? ' (cache off)' : ''}.`)
    return { checkpoint: ref.dir, label: ref.label, fingerprint, cached: model.stats.cached, computed: model.stats.computed, requestsPerSecond: Number(progress.rate.toFixed(2)) }
  } finally {
    await opened.close()
  }
}

/** A checkpoint's model on one engine, what to log about it, and how to let it go. */
interface OpenedModel {
  model: LanguageModel
  description: string
  engine: EvalEngineRan
  close(): Promise<void>
}

function openEmbedded(gpt: GPT, fingerprint: string, batchSize: number, backend: string): OpenedModel {
  const c = gpt.config
  return {
    model: new GPTLanguageModel(gpt, { id: fingerprint, batchSize }),
    description: `${c.nLayer} layers x ${c.nEmbd}, context ${c.nCtx}; embedded engine (${backend})`,
    engine: { name: 'embedded', detail: backend, dtype: 'float32' },
    close: async () => gpt.dispose()
  }
}

async function openTorch(dir: string, fingerprint: string, config: EvalWorkerParams['config'], python: string): Promise<OpenedModel> {
  const pool = await startModelServers(dir, { devices: config.devices, dtype: config.dtype, batchSize: config.batchSize, python })
  const i = pool.info
  try {
    return {
      model: new TorchLanguageModel(pool, fingerprint),
      description: `${i.nLayer} layers x ${i.nEmbd}, context ${i.nCtx}; PyTorch engine on ${pool.describe()}`,
      engine: { name: 'pytorch', detail: pool.describe(), dtype: i.dtype },
      close: () => pool.close()
    }
  } catch (e) {
    await pool.close()
    throw e
  }
}
