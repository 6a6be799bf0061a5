// The workbench: every service wired over one workspace, and the API dispatcher that all three
// hosts (Electron IPC, the web host, the CLI) call. Inputs are validated here, once; what a call
// does lives in the services (training.ts, tokenize.ts, prepare.ts, evals.ts, generation.ts, ...).
import { EventEmitter } from 'node:events'
import path from 'node:path'
import { type ApiEvent, ApiError, type ApiReply, type AppInfo, type Envelope, parseInput } from '../../shared/api'
import type { ApiMethod } from '../../shared/api-methods'
import type { JobSpec } from '../../shared/jobs'
import { discoverDevices } from './devices'
import { EvalWatchService } from './eval-watch'
import { EvalService } from './evals'
import { GenerationService } from './generation'
import { GenerationsRepo } from './generation-repo'
import { JobSupervisor, type SupervisorOptions } from './jobs/supervisor'
import { listSamples } from './samples'
import { type Db, openDatabase } from './store/database'
import { DatasetsRepo } from './store/datasets-repo'
import { JobsRepo } from './store/jobs-repo'
import { RunsRepo } from './store/runs-repo'
import { listPresets } from './presets'
import { PrepareService } from './prepare'
import { listPreparedDatasets, readPreparedDataset } from './prepared-datasets'
import { TrainingService } from './training'
import { readRunOverlay, readRunSeries } from './run-series'
import { inspectRunBatch } from './batches'
import { ResumeEventsRepo } from './store/resume-events-repo'
import { SavedConfigs } from './saved-configs'
import { TokenizeService } from './tokenize'
import { type Workspace, type WorkspaceLock, lockWorkspace, resolveWorkspace } from './workspace'
import { PathPolicy, checkApiPaths } from './path-policy'

export interface WorkbenchOptions {
  workspaceRoot?: string
  /** Folder holding the built worker entry points (out/main/workers). */
  workersDir: string
  /** The app's resources folder (presets). */
  resourcesDir: string
  host: AppInfo['host']
  version: string
  supervisor?: Partial<SupervisorOptions>
}

/**
 * Methods that start, steer or stop worker processes (or change files jobs read): only the
 * workspace's owner runs them. Others are refused with the owner's pid rather than forwarded: the
 * owner may be a desktop app with no API anyone else can reach, and a refusal that names it says
 * where to go. Everything else (lists, logs, metrics, results) reads the shared database.
 */
const OWNER_ONLY: ReadonlySet<ApiMethod> = new Set<ApiMethod>([
  'jobs.start',
  'jobs.pause',
  'jobs.resume',
  'jobs.cancel',
  'evals.watch',
  'evals.unwatch',
  'generate.load',
  'generate.unload',
  'generate.serve',
  'generate.start',
  'generate.stop'
])

type Handlers = { [M in ApiMethod]: (input: ReturnType<typeof parseInput<M>>) => ApiReply<M> | Promise<ApiReply<M>> }

export class Workbench {
  readonly workspace: Workspace
  /** Whether this process owns the workspace (runs jobs) or only reads it beside the owner. */
  readonly lock: WorkspaceLock
  readonly db: Db
  readonly jobs: JobsRepo
  readonly runs: RunsRepo
  readonly datasets: DatasetsRepo
  readonly supervisor: JobSupervisor
  readonly training: TrainingService
  readonly evals: EvalService
  readonly evalWatch: EvalWatchService
  readonly generation: GenerationService
  readonly tokenize: TokenizeService
  /** The folders API inputs may name (path-policy.ts); the web host enforces it. */
  readonly paths = new PathPolicy(() => [this.workspace.root, this.options.resourcesDir])
  readonly prepare: PrepareService
  readonly events = new EventEmitter<{ event: [ApiEvent] }>()
  private readonly handlers: Handlers
  private readonly savedConfigs: SavedConfigs

  constructor(private readonly options: WorkbenchOptions) {
    this.workspace = resolveWorkspace(options.workspaceRoot)
    this.lock = lockWorkspace(this.workspace)
    this.db = openDatabase(this.workspace.dbFile)
    this.jobs = new JobsRepo(this.db)
    this.supervisor = new JobSupervisor(this.jobs, {
      workerPath: (kind) => path.join(options.workersDir, `${kind}.js`),
      ...options.supervisor
    })
    this.runs = new RunsRepo(this.db)
    this.datasets = new DatasetsRepo(this.db)
    this.training = new TrainingService(this.workspace, options.resourcesDir, this.runs, this.datasets, this.supervisor, this.jobs, new ResumeEventsRepo(this.db))
    this.evals = new EvalService(this.workspace, this.db, this.supervisor, this.runs, (event) => this.events.emit('event', event))
    this.evalWatch = new EvalWatchService(this.db, this.runs, this.jobs, this.evals, this.supervisor, (event) => this.events.emit('event', event))
    this.generation = new GenerationService(new GenerationsRepo(this.db), this.runs, this.supervisor, (data) => this.events.emit('event', { event: 'generation', data }))
    this.tokenize = new TokenizeService(this.workspace, this.datasets, this.supervisor)
    this.prepare = new PrepareService(this.workspace, this.jobs, this.supervisor, this.tokenize)
    this.supervisor.on('job', (job) => {
      if (job.kind === 'tokenize' && job.state === 'done') this.tokenize.finished(job)
      if (job.kind === 'prepare' && job.state === 'done') this.prepare.finished(job)
      this.events.emit('event', { event: 'job', data: job })
    })
    this.supervisor.on('metric', ({ jobId, step, values }) => {
      const run = this.runs.byJob(jobId)
      if (run) this.events.emit('event', { event: 'metric', data: { runId: run.id, step, values } })
    })
    this.supervisor.on('log', (line) => this.events.emit('event', { event: 'log', data: line }))
    // Only the owner repairs: another process's view of a live host's jobs is not a crash to recover from.
    if (this.lock.owner) {
      this.supervisor.recoverInterrupted()
      this.training.registerOrphanCheckpoints()
    }
    this.savedConfigs = new SavedConfigs(path.join(this.workspace.root, 'configs'))
    this.handlers = this.createHandlers()
  }

  /** Validates and runs one API call; never throws: errors come back in the envelope. */
  async call<M extends ApiMethod>(method: M, rawInput: unknown): Promise<Envelope<ApiReply<M>>> {
    try {
      if (!Object.hasOwn(this.handlers, method)) throw new ApiError('not_found', `Unknown API method "${String(method)}".`)
      if (!this.lock.owner && OWNER_ONLY.has(method)) throw this.notOwnerError()
      const input = checkApiPaths(method, parseInput(method, rawInput), this.paths)
      const value = await (this.handlers[method] as (i: unknown) => ApiReply<M> | Promise<ApiReply<M>>)(input)
      return { ok: true, value }
    } catch (err) {
      if (err instanceof ApiError) return { ok: false, error: { code: err.code, message: err.message } }
      return { ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } }
    }
  }

  async close(): Promise<void> {
    await this.supervisor.shutdown()
    this.db.close()
    this.lock.release()
  }

  private notOwnerError(): ApiError {
    const who = this.lock.ownerPid ? `process ${this.lock.ownerPid}` : 'another process'
    return new ApiError(
      'conflict',
      `The workspace ${this.workspace.root} is in use by ${who} (${this.lock.file}): it runs the jobs here, so start, pause or cancel them there. This process only reads the workspace.`
    )
  }

  private createHandlers(): Handlers {
    return {
      'app.info': () => ({ version: this.options.version, workspace: this.workspace.root, host: this.options.host, node: process.versions.node }),
      'devices.list': (input) => discoverDevices(input ?? {}),
      'jobs.list': (input) => this.jobs.list(input?.limit ?? 200),
      'jobs.get': ({ id }) => {
        const job = this.jobs.get(id)
        if (!job) throw new ApiError('not_found', `Job ${id} does not exist.`)
        return job
      },
      'jobs.logs': ({ id, afterId, limit }) => ({ lines: this.jobs.logs(id, afterId, limit) }),
      'jobs.start': (spec) => this.startJob(spec),
      'jobs.pause': ({ id }) => this.supervisor.pause(id),
      'jobs.resume': ({ id }) => this.supervisor.resume(id),
      'jobs.cancel': ({ id, checkpoint }) => this.supervisor.cancel(id, { checkpoint }),
      'samples.list': () => listSamples(),
      'presets.list': () => listPresets(this.options.resourcesDir),
      'datasets.list': () => this.datasets.list(),
      'runs.list': (input) => this.runs.list(input?.limit ?? 200),
      'runs.get': ({ id }) => {
        const run = this.runs.get(id)
        if (!run) throw new ApiError('not_found', `Run ${id} does not exist.`)
        return { ...run, checkpoints: this.runs.checkpoints(id) }
      },
      'runs.metrics': ({ id, afterStep }) => this.runs.metrics(id, afterStep),
      'prepare.list': () => listPreparedDatasets(this.workspace.datasetsDir),
      'prepare.get': ({ id }) => readPreparedDataset(this.workspace.datasetsDir, id),
      'runs.series': ({ id, afterStep, names, tail }) => {
        if (!this.runs.get(id)) throw new ApiError('not_found', `Run ${id} does not exist.`)
        return readRunSeries(this.db, id, afterStep, names, tail)
      },
      'runs.overlay': ({ id }) => {
        const run = this.runs.get(id)
        if (!run) throw new ApiError('not_found', `Run ${id} does not exist.`)
        return readRunOverlay(this.db, run, this.training.resumes)
      },
      'runs.batch': ({ id, step, split, rows }) => inspectRunBatch(this.runs, id, step, split, rows),
      'configs.list': () => this.savedConfigs.list(),
      'configs.save': ({ name, config }) => this.savedConfigs.save(name, config),
      'configs.delete': ({ name }) => this.savedConfigs.remove(name),
      'evals.tasks': () => this.evals.tasks(),
      'evals.results': (input) => this.evals.matrix(input ?? {}),
      'evals.samples': ({ fingerprint, task, numFewshot, offset, limit }) => this.evals.samples(fingerprint, task, numFewshot, offset, limit),
      'evals.watch': ({ runId, ...settings }) => this.evalWatch.watch(runId, settings),
      'evals.unwatch': ({ runId }) => this.evalWatch.unwatch(runId),
      'evals.watches': () => this.evalWatch.list(),
      'generate.checkpoints': () => this.generation.checkpoints(),
      'generate.models': () => this.generation.models(),
      'generate.load': ({ checkpoint, ...choice }) => this.generation.load(checkpoint, choice),
      'generate.unload': ({ checkpoint }) => this.generation.unload(checkpoint),
      'generate.serve': ({ checkpoint, on, port }) => this.generation.serve(checkpoint, on, port),
      'generate.start': (input) => this.generation.start(input),
      'generate.stop': ({ id }) => this.generation.stop(id),
      'generate.history': (input) => this.generation.history(input?.query, input?.limit ?? 50),
      'generate.get': ({ id }) => this.generation.get(id)
    }
  }

  private async startJob(spec: JobSpec) {
    if (spec.kind === 'train') {
      const { run, worker, resumeStep } = await this.training.prepare(spec.params)
      // Checked again after the await: two resumes of one run may both have passed prepare; the first to get here starts.
      this.training.assertIdle(run.id)
      const job = this.supervisor.start({ kind: 'train', params: worker })
      this.runs.setJob(run.id, job.id)
      this.training.started(run.id, job.id, resumeStep)
      return job
    }
    if (spec.kind === 'prepare') return this.prepare.start(spec.params)
    if (spec.kind === 'eval') return this.evals.start(spec.params)
    if (spec.kind === 'generate') return this.jobs.get(this.generation.load(spec.params.checkpoint, spec.params).jobId)!
    return this.tokenize.start(spec.params)
  }
}
