// The job supervisor: one child process per job, its messages validated and persisted, its
// lifecycle (pause, resume, cancel, death) reflected in the job row. Workers never touch SQLite.
import { type ChildProcess, fork } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { ApiError, describeZodError } from '../../../shared/api'
import type { GenerationWorkerEvent } from '../../../shared/generate'
import { type Job, type JobKind, describeFailures, outcomeOf } from '../../../shared/jobs'
import { type MainMessage, WorkerMessage } from '../../../shared/protocol'
import type { JobsRepo, LogLine } from '../store/jobs-repo'
import { processStillRuns } from '../workspace'
import { WORKER_ENV } from './worker-env'

export interface SupervisorOptions {
  /** The script that runs jobs of a kind (a built worker entry point). */
  workerPath: (kind: JobKind) => string
  /** How long a cancelled worker gets to stop on its own before SIGKILL. */
  cancelGraceMs?: number
  /** The same when the stop asked for a checkpoint first (writing one takes a while for a large model). */
  checkpointGraceMs?: number
  /** Extra environment for workers (e.g. ELECTRON_RUN_AS_NODE under Electron). */
  workerEnv?: NodeJS.ProcessEnv
  execPath?: string
}

export interface MetricEvent {
  jobId: number
  step: number
  values: Record<string, number>
}

export interface CheckpointEvent {
  jobId: number
  step: number
  dir: string
  bytes: number
  valLoss: number | null
}

interface SupervisorEvents {
  job: [Job]
  log: [LogLine]
  metric: [MetricEvent]
  checkpoint: [CheckpointEvent]
  /** A resuming train worker loaded its checkpoint (at `step`). */
  resumed: [{ jobId: number; step: number }]
  backend: [{ jobId: number; name: string; detail: string }]
  /** Eval workers' cache requests, cache writes and task results (the eval service answers and stores them). */
  eval: [EvalWorkerEvent]
  /** Generation workers' news: model ready, streamed tokens, finished generations. */
  generation: [{ jobId: number; event: GenerationWorkerEvent }]
}

export type EvalWorkerEvent = { jobId: number; message: Extract<WorkerMessage, { type: 'eval-cache-get' | 'eval-cache-put' | 'eval-task' }> }

interface Live {
  child: ChildProcess
  cancelRequested: boolean
  /** The host is shutting down and stopped this worker: an ending, not the worker's failure. */
  shuttingDown?: boolean
  killTimer?: NodeJS.Timeout
  stderrTail: string[]
  settled: boolean
  stdout: LineBuffer
  stderr: LineBuffer
}

const STDERR_TAIL_LINES = 20
/** A "line" longer than this without a newline is logged in pieces rather than held for ever. */
const MAX_PARTIAL_LINE = 64 * 1024

/** Reassembles a stream's chunks into whole lines: a line cut across chunks is one line, and the unterminated rest comes out on flush. */
class LineBuffer {
  private partial = ''

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n')
    this.partial = lines.pop()!
    for (const line of lines) this.emit(line)
    if (this.partial.length > MAX_PARTIAL_LINE) this.flush()
  }

  flush(): void {
    const rest = this.partial
    this.partial = ''
    this.emit(rest)
  }

  private emit(line: string): void {
    if (line.trim()) this.onLine(line.replace(/\r$/, ''))
  }
}

export class JobSupervisor extends EventEmitter<SupervisorEvents> {
  private readonly live = new Map<number, Live>()

  constructor(
    private readonly repo: JobsRepo,
    private readonly options: SupervisorOptions
  ) {
    super()
  }

  /**
   * Marks jobs whose workers died with a previous host as failed. Called once at start-up by the
   * workspace's owner only; a job whose worker pid still runs (and is the process that started
   * then, not a reuse of its number) is left alone: workers exit when their host's IPC channel
   * closes, so a live one still has a host.
   */
  recoverInterrupted(): Job[] {
    const recovered: Job[] = []
    for (const job of this.repo.active()) {
      if (this.live.has(job.id)) continue
      const worker = this.repo.worker(job.id)
      if (worker && processStillRuns(worker.pid, worker.startedAt)) continue
      this.repo.finish(job.id, 'failed', 'Interrupted: the workbench stopped while this job was ' + job.state + '. Start it again.')
      this.repo.appendLog(job.id, 'error', 'The host stopped while this job was active; its worker ended with it.')
      recovered.push(this.emitJob(job.id))
    }
    return recovered
  }

  /** Starts a worker for a job whose parameters main has already resolved (the worker validates them again). */
  start(spec: { kind: JobKind; params: unknown }): Job {
    const job = this.repo.create(spec.kind, spec.params)
    this.emitJob(job.id)
    let child: ChildProcess
    try {
      child = fork(this.options.workerPath(spec.kind), [], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: { ...process.env, ...WORKER_ENV, ...this.options.workerEnv },
        execPath: this.options.execPath,
        serialization: 'json'
      })
    } catch (err) {
      this.repo.finish(job.id, 'failed', `Could not start the worker: ${(err as Error).message}`)
      return this.emitJob(job.id)
    }
    const live: Live = {
      child,
      cancelRequested: false,
      stderrTail: [],
      settled: false,
      stdout: new LineBuffer((line) => this.log(job.id, 'info', line)),
      stderr: new LineBuffer((line) => {
        live.stderrTail.push(line)
        if (live.stderrTail.length > STDERR_TAIL_LINES) live.stderrTail.shift()
        this.log(job.id, 'warn', line)
      })
    }
    this.live.set(job.id, live)
    this.wire(job.id, live)
    this.repo.markStarted(job.id, child.pid ?? 0)
    this.send(live, { type: 'start', jobId: job.id, params: spec.params })
    return this.emitJob(job.id)
  }

  pause(id: number): Job {
    const live = this.requireLive(id, 'pause')
    if (this.repo.get(id)!.state === 'running') {
      this.send(live, { type: 'pause' })
      this.repo.setState(id, 'paused')
    }
    return this.emitJob(id)
  }

  resume(id: number): Job {
    const live = this.requireLive(id, 'resume')
    if (this.repo.get(id)!.state === 'paused') {
      this.send(live, { type: 'resume' })
      this.repo.setState(id, 'running')
    }
    return this.emitJob(id)
  }

  /**
   * Stops a job. checkpoint: save its state first (a training's checkpoint at the current step);
   * on by default for training, so a stop loses no steps; other kinds ignore it.
   */
  cancel(id: number, options: { checkpoint?: boolean } = {}): Job {
    const live = this.requireLive(id, 'stop')
    if (!live.cancelRequested) {
      const checkpoint = this.repo.get(id)!.kind === 'train' && (options.checkpoint ?? true)
      live.cancelRequested = true
      // cancel before resume: a paused job must not run on between the two messages (its checkpoint would land steps later)
      this.send(live, { type: 'cancel', checkpoint })
      this.send(live, { type: 'resume' })
      live.killTimer = setTimeout(() => live.child.kill('SIGKILL'), checkpoint ? (this.options.checkpointGraceMs ?? 120_000) : (this.options.cancelGraceMs ?? 5000))
      this.log(id, 'info', checkpoint ? 'Stop requested, with a checkpoint at the current step (the worker says what it kept).' : 'Stop requested.')
    }
    return this.emitJob(id)
  }

  /** Resolves when the job's worker has exited (immediately if it has no live worker). */
  waitForExit(id: number): Promise<Job> {
    const live = this.live.get(id)
    if (!live || live.child.exitCode !== null || live.child.signalCode !== null) return Promise.resolve(this.repo.get(id)!)
    return new Promise((resolve) => live.child.once('exit', () => setImmediate(() => resolve(this.repo.get(id)!))))
  }

  /** Sends a message to a job's live worker (e.g. the eval cache's answers); false when it has none. */
  sendToWorker(id: number, msg: MainMessage): boolean {
    const live = this.live.get(id)
    if (!live || live.settled || !live.child.connected) return false
    live.child.send(msg)
    return true
  }

  liveJobIds(): number[] {
    return [...this.live.keys()]
  }

  /**
   * Stops every worker (host shutdown). A loaded generation model is unloaded (done: a restart is
   * not its failure); any other job is interrupted, said so, without the signal's noise.
   */
  shutdown(): Promise<void> {
    const exits = [...this.live.entries()].map(([id, live]) => {
      const done = this.waitForExit(id)
      live.shuttingDown = true
      live.child.kill('SIGTERM')
      return done
    })
    return Promise.all(exits).then(() => undefined)
  }

  private wire(id: number, live: Live): void {
    const { child } = live
    // Chunks do not end on line boundaries: buffer per stream, flush what is left when it ends.
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => live.stdout.push(chunk))
    child.stdout?.on('end', () => live.stdout.flush())
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => live.stderr.push(chunk))
    child.stderr?.on('end', () => live.stderr.flush())
    child.on('message', (raw) => this.onMessage(id, live, raw))
    child.on('error', (err) => this.log(id, 'error', `Worker process error: ${err.message}`))
    child.on('exit', (code, signal) => this.onExit(id, live, code, signal))
  }

  private onMessage(id: number, live: Live, raw: unknown): void {
    const parsed = WorkerMessage.safeParse(raw)
    if (!parsed.success) {
      this.log(id, 'warn', `Ignored a malformed worker message: ${describeZodError(parsed.error)}`)
      return
    }
    const msg = parsed.data
    if (live.settled) return
    switch (msg.type) {
      case 'progress': {
        const fraction = msg.total > 0 ? Math.min(1, msg.done / msg.total) : 0
        this.repo.setProgress(id, fraction, msg.text)
        this.emitJob(id)
        break
      }
      case 'log':
        this.log(id, msg.level, msg.text)
        break
      case 'metric':
        this.emit('metric', { jobId: id, step: msg.step, values: msg.values })
        break
      case 'checkpoint':
        this.emit('checkpoint', { jobId: id, step: msg.step, dir: msg.dir, bytes: msg.bytes, valLoss: msg.valLoss })
        break
      case 'resumed':
        this.emit('resumed', { jobId: id, step: msg.step })
        break
      case 'backend':
        this.emit('backend', { jobId: id, name: msg.name, detail: msg.detail })
        this.log(id, 'info', `Backend: ${msg.name} (${msg.detail})`)
        break
      case 'eval-cache-get':
      case 'eval-cache-put':
      case 'eval-task':
        this.emit('eval', { jobId: id, message: msg })
        break
      case 'generation':
        this.emit('generation', { jobId: id, event: msg.event })
        break
      case 'result': {
        // A job of parts in which every part failed did nothing: it ends failed (its result kept), with the causes grouped.
        const outcome = outcomeOf(msg.result)
        const failure = outcome && outcome.total > 0 && outcome.failed === outcome.total ? describeFailures(outcome) : null
        this.settle(id, live, () => {
          // the bar shows the share of parts that ran, not 100% for a job that lost some
          this.repo.setProgress(id, outcome && outcome.total > 0 ? (outcome.total - outcome.failed) / outcome.total : 1, this.repo.get(id)!.progressText)
          if (failure) return this.repo.finish(id, 'failed', failure, msg.result)
          this.repo.finish(id, 'done', null, msg.result)
        })
        if (failure) this.log(id, 'error', failure)
        break
      }
      case 'error':
        this.settle(id, live, () => this.repo.finish(id, 'failed', msg.message))
        this.log(id, 'error', msg.message)
        break
      case 'cancelled':
        this.settle(id, live, () => {
          // what the job kept as it stopped (a training's checkpoint and its step) is its last line
          if (msg.note) this.repo.setProgress(id, this.repo.get(id)!.progress, msg.note)
          this.repo.finish(id, 'cancelled', null)
        })
        break
    }
  }

  private onExit(id: number, live: Live, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(live.killTimer)
    this.live.delete(id)
    // 'exit' can come before the pipes end: a last line without a newline belongs before the failure reason.
    live.stdout.flush()
    live.stderr.flush()
    if (live.settled) return
    live.settled = true
    if (live.cancelRequested) {
      this.repo.finish(id, 'cancelled', null)
    } else if (live.shuttingDown) {
      const job = this.repo.get(id)!
      if (job.kind === 'generate') {
        this.repo.setProgress(id, 1, 'Unloaded: the host stopped.')
        this.repo.finish(id, 'done', null)
      } else {
        const reason = `Interrupted: the host stopped while this job was ${job.state}. Start it again${job.kind === 'train' ? ' (a run resumes from its last checkpoint)' : ''}.`
        this.repo.finish(id, 'failed', reason)
        this.log(id, 'error', reason)
      }
    } else {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      const tail = live.stderrTail.length ? ` Last output: ${live.stderrTail.slice(-3).join(' | ')}` : ''
      const reason = `The worker process ${how} before finishing.${tail}`
      this.repo.finish(id, 'failed', reason)
      this.log(id, 'error', reason)
    }
    this.emitJob(id)
  }

  private settle(id: number, live: Live, write: () => void): void {
    live.settled = true
    write()
    this.emitJob(id)
  }

  private requireLive(id: number, verb: string): Live {
    const job = this.repo.get(id)
    if (!job) throw new ApiError('not_found', `Job ${id} does not exist.`)
    const live = this.live.get(id)
    if (!live || live.settled) throw new ApiError('conflict', `Cannot ${verb} job ${id}: it is ${job.state}.`)
    return live
  }

  private send(live: Live, msg: MainMessage): void {
    if (live.child.connected) live.child.send(msg)
  }

  /** Appends a line to a job's log (services tell the user there what they did with a job and why). */
  log(jobId: number, level: LogLine['level'], text: string): void {
    this.emit('log', this.repo.appendLog(jobId, level, text))
  }

  private emitJob(id: number): Job {
    const job = this.repo.get(id)!
    this.emit('job', job)
    return job
  }
}
