// Evaluating a run's checkpoints during training, when the user asks (`evals.watch`): each
// checkpoint a watched run saves becomes an eval job through the EvalService, one job at a time
// per run. A checkpoint saved while that run's eval job is busy waits; a newer one replaces it
// (intermediate checkpoints are skipped rather than piled up). Both job logs say what was started
// and why. Watches live in SQLite; which job is running and which checkpoint waits are the live
// host's business and end with it.
import path from 'node:path'
import { ApiError, type ApiEvent } from '../../shared/api'
import { EvalConfig } from '../../shared/config/eval'
import { type EvalWatch, type EvalWatchSettings, describeWatch } from '../../shared/eval-watch'
import { ACTIVE_STATES, type Job, stateLabel } from '../../shared/jobs'
import { type EvalService, checkTasks } from './evals'
import type { CheckpointEvent, JobSupervisor } from './jobs/supervisor'
import type { Db } from './store/database'
import { EvalWatchRepo, type StoredWatch } from './store/eval-watch-repo'
import type { JobsRepo } from './store/jobs-repo'
import type { RunsRepo } from './store/runs-repo'

interface Waiting {
  step: number
  dir: string
  trainJobId: number
}

export class EvalWatchService {
  readonly repo: EvalWatchRepo
  /** runId -> the eval job evaluating one of its checkpoints now */
  private readonly active = new Map<number, { jobId: number; step: number; checkpoint: string }>()
  /** runId -> the latest checkpoint waiting for that job */
  private readonly waiting = new Map<number, Waiting>()

  constructor(
    db: Db,
    private readonly runs: RunsRepo,
    private readonly jobs: JobsRepo,
    private readonly evals: EvalService,
    private readonly supervisor: JobSupervisor,
    private readonly emit: (event: ApiEvent) => void
  ) {
    this.repo = new EvalWatchRepo(db)
    // Registered after the TrainingService's listener, so the checkpoint is already recorded.
    supervisor.on('checkpoint', (e) => this.onCheckpoint(e))
    supervisor.on('job', (job) => this.onJob(job))
  }

  watch(runId: number, settings: EvalWatchSettings): EvalWatch {
    const run = this.runs.get(runId)
    if (!run) throw new ApiError('not_found', `Run ${runId} does not exist.`)
    checkTasks(settings.tasks, settings.numFewshot)
    const had = this.repo.get(runId)
    const stored = this.repo.upsert(runId, settings)
    if (run.jobId !== null) {
      this.supervisor.log(
        run.jobId,
        'info',
        `${had ? 'Watch changed: e' : 'E'}ach checkpoint this run saves from now on gets an eval job (${describeWatch(settings)}), one at a time, as asked through evals.watch.`
      )
    }
    this.changed()
    return this.view(stored)
  }

  unwatch(runId: number): EvalWatch[] {
    if (!this.repo.remove(runId)) throw new ApiError('not_found', `Run ${runId} is not watched: there is nothing to stop.`)
    const waiting = this.waiting.get(runId)
    this.waiting.delete(runId)
    const run = this.runs.get(runId)
    if (run?.jobId != null) {
      const busy = this.active.get(runId)
      const rest = [busy && `eval job ${busy.jobId} (step ${busy.step}) finishes`, waiting && `step ${waiting.step} will not be evaluated`].filter(Boolean).join('; ')
      this.supervisor.log(run.jobId, 'info', `Stopped evaluating this run's checkpoints as they are saved (evals.unwatch)${rest ? `: ${rest}` : ''}.`)
    }
    this.changed()
    return this.list()
  }

  list(): EvalWatch[] {
    return this.repo.list().map((w) => this.view(w))
  }

  private view(w: StoredWatch): EvalWatch {
    const lastJob = w.lastJobId !== null ? this.jobs.get(w.lastJobId) : null
    const last = w.lastJobId !== null && w.lastStep !== null ? { jobId: w.lastJobId, step: w.lastStep, state: lastJob?.state ?? null, label: lastJob ? stateLabel(lastJob) : null } : null
    return { runId: w.runId, settings: w.settings, createdAt: w.createdAt, active: this.active.get(w.runId) ?? null, pendingStep: this.waiting.get(w.runId)?.step ?? null, last }
  }

  private onCheckpoint({ jobId, step, dir }: CheckpointEvent): void {
    const run = this.runs.byJob(jobId)
    const watch = run && this.repo.get(run.id)
    if (!run || !watch) return
    const busy = this.active.get(run.id)
    if (!busy) {
      this.launch(run.id, watch.settings, { step, dir, trainJobId: jobId })
      return
    }
    const skipped = this.waiting.get(run.id)
    this.waiting.set(run.id, { step, dir, trainJobId: jobId })
    const skip = skipped ? `; step ${skipped.step}, which was waiting, is skipped (only the latest waiting checkpoint is evaluated)` : ''
    this.supervisor.log(jobId, 'info', `Checkpoint step ${step} waits for eval job ${busy.jobId}, still evaluating step ${busy.step}${skip}.`)
    this.changed()
  }

  private onJob(job: Job): void {
    if (job.kind !== 'eval' || ACTIVE_STATES.includes(job.state)) return
    for (const [runId, busy] of this.active) {
      if (busy.jobId !== job.id) continue
      this.active.delete(runId)
      this.next(runId)
      this.changed()
      return
    }
  }

  /** Starts the waiting checkpoint's eval job, if the run is still watched. */
  private next(runId: number): void {
    const waiting = this.waiting.get(runId)
    this.waiting.delete(runId)
    const watch = this.repo.get(runId)
    if (waiting && watch) this.launch(runId, watch.settings, waiting)
  }

  private launch(runId: number, settings: EvalWatchSettings, c: Waiting): void {
    let job: Job
    try {
      job = this.evals.start(EvalConfig.parse({ ...settings, checkpoints: [c.dir] }))
    } catch (err) {
      this.supervisor.log(c.trainJobId, 'warn', `Could not evaluate checkpoint step ${c.step} of this watched run: ${(err as Error).message}`)
      return
    }
    this.supervisor.log(job.id, 'info', `Started because run ${runId} is watched (evals.watch): evaluating its checkpoint at step ${c.step}, ${c.dir} (${describeWatch(settings)}).`)
    this.supervisor.log(c.trainJobId, 'info', `Eval job ${job.id} started on checkpoint step ${c.step}, because this run is watched (${describeWatch(settings)}).`)
    this.repo.setLast(runId, job.id, c.step)
    // A worker that could not even start has already ended: go straight on to what waits.
    if (ACTIVE_STATES.includes(job.state)) this.active.set(runId, { jobId: job.id, step: c.step, checkpoint: path.resolve(c.dir) })
    else this.next(runId)
    this.changed()
  }

  private changed(): void {
    this.emit({ event: 'eval-watch', data: this.list() })
  }
}
