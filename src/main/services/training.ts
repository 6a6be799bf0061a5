// Training runs: turns a train request (config, preset or resume) into a run row, a run folder
// and a worker job, and records what the worker reports (metrics, checkpoints, backend).
import fs from 'node:fs'
import path from 'node:path'
import { ApiError, describeZodError } from '../../shared/api'
import { TrainConfig } from '../../shared/config/train'
import type { TrainParams, TrainWorkerParams } from '../../shared/jobs'
import type { Run } from '../../shared/runs'
import { readShardMeta } from '../../core/data/shards'
import { CONFIG_FILE, MODEL_FILE, listCheckpoints } from '../../core/engine/checkpoint'
import { gpuMemoryProblem, trainMemoryProblem } from '../../core/memory-admission'
import { pytorchReport } from '../../core/engine/pytorch/probe'
import type { JobSupervisor } from './jobs/supervisor'
import { findPreset } from './presets'
import { SAMPLE_DATASET_NAME, ensureSampleDataset } from './sample-dataset'
import type { DatasetsRepo } from './store/datasets-repo'
import type { JobsRepo } from './store/jobs-repo'
import type { ResumeEventsRepo } from './store/resume-events-repo'
import type { RunsRepo } from './store/runs-repo'
import type { Workspace } from './workspace'

export class TrainingService {
  constructor(
    private readonly workspace: Workspace,
    private readonly resourcesDir: string,
    private readonly runs: RunsRepo,
    private readonly datasets: DatasetsRepo,
    supervisor: JobSupervisor,
    private readonly jobs: JobsRepo,
    /** Where runs were resumed, and the rows each resume took off the run's line (its superseded branch). */
    readonly resumes: ResumeEventsRepo
  ) {
    supervisor.on('resumed', ({ jobId }) => this.dropAbandonedMetrics(jobId))
    // A resume that ended before loading its checkpoint keeps the run's metrics: forget it.
    supervisor.on('job', (job) => {
      if (job.state === 'done' || job.state === 'failed' || job.state === 'cancelled') {
        this.pendingTruncation.delete(job.id)
        this.resumes.discard(job.id)
      }
    })
    supervisor.on('metric', ({ jobId, step, values }) => {
      const run = this.runs.byJob(jobId)
      if (!run) return
      // A worker that does not announce 'resumed' has loaded its checkpoint once it reports a step.
      this.dropAbandonedMetrics(jobId)
      this.runs.addMetrics(run.id, step, values)
    })
    supervisor.on('checkpoint', ({ jobId, step, dir, bytes, valLoss }) => {
      const run = this.runs.byJob(jobId)
      if (!run) return
      this.runs.addCheckpoint(run.id, step, dir, bytes, valLoss)
      // The worker prunes old folders (keep-last-N); forget the ones that are gone.
      for (const c of this.runs.checkpoints(run.id)) if (!c.pinned && !fs.existsSync(c.path)) this.runs.removeCheckpoint(run.id, c.step)
    })
    supervisor.on('backend', ({ jobId, name, detail }) => {
      const run = this.runs.byJob(jobId)
      if (run) this.runs.setBackend(run.id, `${name} (${detail})`)
      this.resumes.setBackend(jobId, `${name} (${detail})`)
    })
  }

  /** Resume jobs whose run's metrics past their step are dropped once the worker has loaded the checkpoint. */
  private readonly pendingTruncation = new Map<number, { runId: number; step: number }>()

  /** Resolves a train request into worker parameters, creating the run (or reopening it to resume). */
  async prepare(params: TrainParams): Promise<{ run: Run; worker: TrainWorkerParams; resumeStep?: number }> {
    if (params.resume) return this.prepareResume(params.resume.runId, params.resume.step)
    let config: TrainConfig
    let name: string
    if (params.preset) {
      const preset = this.preset(params.preset)
      config = { ...preset.config, ...(params.steps ? { steps: params.steps } : {}) }
      name = preset.title
    } else {
      config = params.config!
      name = config.name ?? 'custom config'
    }
    await admitMemory(config)
    const datasetDir = await this.resolveDataset(params.dataset ?? config.dataset)
    const meta = readShardMeta(datasetDir)
    if (meta.vocabSize > config.model.vocabSize) {
      throw new ApiError('bad_input', `The dataset ${datasetDir} uses a vocabulary of ${meta.vocabSize} tokens but the model's vocabSize is ${config.model.vocabSize}.`)
    }
    const run = this.runs.create(name, config, datasetDir, (id) => path.join(this.workspace.runsDir, String(id)))
    fs.mkdirSync(run.dir, { recursive: true })
    fs.writeFileSync(path.join(run.dir, 'config.json'), JSON.stringify(config, null, 2) + '\n')
    return { run, worker: { config, runId: run.id, runDir: run.dir, datasetDir } }
  }

  /** One active job per run: throws when the run's job is still queued, running or paused. Call right before starting its job, with no await between. */
  assertIdle(runId: number): void {
    const jobId = this.runs.get(runId)?.jobId
    const job = jobId === null || jobId === undefined ? undefined : this.jobs.get(jobId)
    if (job && (job.state === 'queued' || job.state === 'running' || job.state === 'paused')) {
      throw new ApiError('conflict', `Run ${runId} is already being trained by job ${job.id} (${job.state}): wait for it to end or cancel it before resuming.`)
    }
  }

  /** Records the job that resumes a run from `resumeStep`; its later metrics go once the worker has loaded the checkpoint. */
  started(runId: number, jobId: number, resumeStep: number | undefined): void {
    if (resumeStep === undefined) return
    this.pendingTruncation.set(jobId, { runId, step: resumeStep })
    const config = this.runs.get(runId)?.config
    this.resumes.begin(runId, jobId, resumeStep, config?.engine ?? 'embedded', config?.devices ?? [])
  }

  private dropAbandonedMetrics(jobId: number): void {
    const pending = this.pendingTruncation.get(jobId)
    if (!pending) return
    this.pendingTruncation.delete(jobId)
    // The rows past the step are not lost: they become the resume's superseded branch (drawn apart on the chart).
    this.resumes.loaded(jobId, () => this.runs.truncateMetrics(pending.runId, pending.step))
  }

  /**
   * Registers checkpoint folders that have no row: a host killed after a worker renamed a
   * finished step-N folder into place and before main stored its message. Owner only, at start.
   */
  registerOrphanCheckpoints(): { runId: number; step: number }[] {
    const added: { runId: number; step: number }[] = []
    for (const run of this.runs.list(1_000_000)) {
      const known = new Set(this.runs.checkpoints(run.id).map((c) => c.step))
      for (const c of listCheckpoints(path.join(run.dir, 'checkpoints'))) {
        if (known.has(c.step) || !fs.existsSync(path.join(c.dir, MODEL_FILE)) || !fs.existsSync(path.join(c.dir, CONFIG_FILE))) continue
        const bytes = fs.readdirSync(c.dir).reduce((n, f) => n + fs.statSync(path.join(c.dir, f)).size, 0)
        this.runs.addCheckpoint(run.id, c.step, c.dir, bytes, null)
        added.push({ runId: run.id, step: c.step })
      }
    }
    return added
  }

  private async prepareResume(runId: number, step?: number): Promise<{ run: Run; worker: TrainWorkerParams; resumeStep: number }> {
    const run = this.runs.get(runId)
    if (!run) throw new ApiError('not_found', `Run ${runId} does not exist.`)
    this.assertIdle(runId)
    const kept = this.runs.checkpoints(runId).filter((c) => fs.existsSync(c.path))
    const from = step === undefined ? kept.at(-1) : kept.find((c) => c.step === step)
    if (!from) {
      const have = kept.map((c) => c.step).join(', ') || 'none'
      throw new ApiError('not_found', `Run ${runId} has no kept checkpoint${step === undefined ? '' : ` at step ${step}`} (kept steps: ${have}).`)
    }
    if (from.step >= run.config.steps) throw new ApiError('conflict', `Run ${runId} already reached its last step (${run.config.steps}).`)
    await admitMemory(run.config)
    return { run, worker: { config: run.config, runId, runDir: run.dir, datasetDir: run.datasetDir ?? '', resumeDir: from.path }, resumeStep: from.step }
  }

  private preset(name: string) {
    try {
      return findPreset(this.resourcesDir, name)
    } catch (err) {
      throw new ApiError('bad_input', (err as Error).message)
    }
  }

  private async resolveDataset(dataset: string | undefined): Promise<string> {
    if (!dataset) {
      const dir = await ensureSampleDataset(this.workspace.datasetsDir)
      const meta = readShardMeta(dir)
      this.datasets.upsert(SAMPLE_DATASET_NAME, dir, { trainTokens: meta.splits.train?.tokens, valTokens: meta.splits.val?.tokens, source: meta.source })
      return dir
    }
    const dir = path.resolve(dataset)
    try {
      readShardMeta(dir)
    } catch (err) {
      throw new ApiError('bad_input', (err as Error).message)
    }
    return dir
  }
}

/**
 * Memory admission before the run row exists: a config past the host's available memory (CPU
 * devices) or a GPU's total memory as the PyTorch probe (run once per process) reports it is
 * refused, unless memoryCheck: false. GPUs the probe does not list are not checked.
 */
async function admitMemory(config: TrainConfig): Promise<void> {
  if (config.memoryCheck === false) return
  const problem = trainMemoryProblem(config) ?? (config.devices.some((d) => d.startsWith('gpu:')) ? gpuMemoryProblem(config, (await pytorchReport(config.python)).gpus) : null)
  if (problem) throw new ApiError('bad_input', problem)
}

/** Parses a config file's contents (already JSON/YAML-decoded) into a TrainConfig with a clear message. */
export function parseTrainConfig(raw: unknown, file: string): TrainConfig {
  const parsed = TrainConfig.safeParse(raw)
  if (!parsed.success) throw new Error(`${file}: ${describeZodError(parsed.error)}`)
  return parsed.data
}
