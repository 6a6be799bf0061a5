// Generation in the app: one long-lived `generate` job per loaded checkpoint (its worker keeps the
// model in memory), requests sent to it, its streamed tokens pushed to clients as they come, and
// every generation kept in history (SQLite) as it starts and as it ends. A loaded model can also be
// served over the OpenAI-compatible API (its worker runs it; main makes the key and relays counters).
import crypto from 'node:crypto'
import path from 'node:path'
import { ApiError } from '../../shared/api'
import type { GenerateCheckpoint, GenerationEvent, GenerationRecord, GenerationWorkerEvent, ModelSession, SamplingParams, TokenInfo } from '../../shared/generate'
import type { Job } from '../../shared/jobs'
import type { EngineChoice, TorchDtypeChoice } from '../../shared/config/train'
import { checkCheckpointFolder } from '../../core/generate/checkpoint-folder'
import { checkpointMemoryProblem } from '../../core/memory-admission'
import type { GenerationsRepo } from './generation-repo'
import type { JobSupervisor } from './jobs/supervisor'
import type { RunsRepo } from './store/runs-repo'

/** Models kept loaded at once (two for side-by-side, one more to switch to); the least recently used idle one goes first. */
const MAX_LOADED = 3

/** The engine a model is loaded on (GenerateWorkerParams); a load asking for another one loads it again. */
export interface EngineLoad {
  engine?: EngineChoice
  device?: string
  dtype?: TorchDtypeChoice
}

interface Session extends ModelSession {
  lastUsed: number
  engine: EngineChoice
  device: string
  dtype: TorchDtypeChoice
  /** Requests made while the model loads, sent once it is ready. */
  waiting: string[]
}

interface Pending {
  recordId: number
  jobId: number
  prompt: string
  params: SamplingParams
  tokens: TokenInfo[]
  text: string
  notices: string[]
  sent: boolean
}

export class GenerationService {
  private readonly sessions = new Map<string, Session>()
  private readonly pending = new Map<string, Pending>()

  constructor(
    private readonly repo: GenerationsRepo,
    private readonly runs: RunsRepo,
    private readonly supervisor: JobSupervisor,
    private readonly emit: (event: GenerationEvent) => void
  ) {
    repo.markInterrupted()
    supervisor.on('generation', ({ jobId, event }) => this.onWorkerEvent(jobId, event))
    supervisor.on('job', (job) => this.onJob(job))
  }

  /** Every kept checkpoint of every run, newest run first. */
  checkpoints(): GenerateCheckpoint[] {
    return this.runs.list(1000).flatMap((run) =>
      this.runs
        .checkpoints(run.id)
        .reverse()
        .map((c) => ({ runId: run.id, runName: run.name, step: c.step, path: c.path, valLoss: c.valLoss, createdAt: c.createdAt }))
    )
  }

  models(): ModelSession[] {
    return [...this.sessions.values()].map(publicSession)
  }

  /**
   * Loads a checkpoint in its own worker (or returns the one already loaded). With an engine given,
   * a model loaded on another engine or device is unloaded and loaded again (refused while it generates).
   */
  load(checkpoint: string, choice: EngineLoad = {}): ModelSession {
    const dir = resolveCheckpoint(checkpoint)
    let session = this.sessions.get(dir)
    const engine = choice.engine ?? session?.engine ?? 'embedded'
    const device = choice.device ?? (choice.engine ? 'cpu:0' : (session?.device ?? 'cpu:0'))
    const dtype = choice.dtype ?? (choice.engine ? 'auto' : (session?.dtype ?? 'auto'))
    if (session && (session.engine !== engine || session.device !== device || session.dtype !== dtype)) {
      const jobId = session.jobId
      if ([...this.pending.values()].some((p) => p.jobId === jobId)) {
        throw new ApiError('bad_input', `${dir} is generating on the ${session.engine} engine: stop that generation, then load it again.`)
      }
      this.unloadSession(session)
      session = undefined
    }
    if (!session) {
      const tooLarge = checkpointMemoryProblem(dir)
      if (tooLarge) throw new ApiError('bad_input', tooLarge)
      this.makeRoom()
      const job = this.supervisor.start({ kind: 'generate', params: { checkpoint: dir, backend: 'auto', engine, device, dtype } })
      session = { checkpoint: dir, jobId: job.id, state: 'loading', model: null, error: null, serve: null, lastUsed: Date.now(), waiting: [], engine, device, dtype }
      if (job.state === 'failed') Object.assign(session, { state: 'failed', error: job.error })
      else this.sessions.set(dir, session)
      this.emit({ type: 'model', session: publicSession(session) })
    }
    session.lastUsed = Date.now()
    return publicSession(session)
  }

  /**
   * Switches the OpenAI-compatible API over a loaded model on (127.0.0.1, a new random key; port 0:
   * a free one) or off. The session's `serve` follows: starting, then serving with its URL and
   * counters, or failed with the reason.
   */
  serve(checkpoint: string, on: boolean, port = 0): ModelSession {
    const session = this.sessions.get(path.resolve(checkpoint))
    if (!session || session.state !== 'ready') throw new ApiError('bad_input', `${checkpoint} is not loaded: load it in Generate first, then serve it.`)
    if (on && session.serve?.state !== 'serving' && session.serve?.state !== 'starting') {
      const apiKey = `gptw-${crypto.randomBytes(24).toString('base64url')}`
      session.serve = { state: 'starting', baseUrl: null, modelId: null, apiKey, requests: 0, active: 0, errors: 0, promptTokens: 0, completionTokens: 0, message: null }
      this.supervisor.sendToWorker(session.jobId, { type: 'serve-start', port, apiKey })
    } else if (!on && session.serve) {
      if (session.serve.state === 'failed') session.serve = null
      else this.supervisor.sendToWorker(session.jobId, { type: 'serve-stop' })
    }
    this.emit({ type: 'model', session: publicSession(session) })
    return publicSession(session)
  }

  unload(checkpoint: string): ModelSession[] {
    const session = this.sessions.get(path.resolve(checkpoint))
    if (session) this.unloadSession(session)
    return this.models()
  }

  start(input: { checkpoint: string; prompt: string; params: SamplingParams; compareGroup?: string }): GenerationRecord {
    const session = this.load(input.checkpoint)
    if (session.state === 'failed') throw new ApiError('unavailable', `Could not load ${session.checkpoint}: ${session.error ?? 'the worker failed'}.`)
    const live = this.sessions.get(session.checkpoint)!
    const record = this.repo.create(live.checkpoint, input.prompt, input.params, input.compareGroup ?? null, live.jobId)
    const requestId = `g${record.id}`
    this.pending.set(requestId, { recordId: record.id, jobId: live.jobId, prompt: input.prompt, params: input.params, tokens: [], text: '', notices: [], sent: false })
    if (live.state === 'ready') this.send(requestId)
    else live.waiting.push(requestId)
    this.emit({ type: 'started', record })
    return record
  }

  /** Asks a running generation to stop after its current token. */
  stop(id: number): GenerationRecord {
    const record = this.repo.get(id)
    if (!record) throw new ApiError('not_found', `Generation ${id} does not exist.`)
    const requestId = `g${id}`
    const p = this.pending.get(requestId)
    if (!p) return record
    if (p.sent) this.supervisor.sendToWorker(p.jobId, { type: 'generate-stop', requestId })
    else this.complete(requestId, { state: 'stopped', stopReason: 'stopped', message: 'Stopped before the model was ready.' })
    return this.repo.get(id)!
  }

  history(query: string | undefined, limit: number): GenerationRecord[] {
    return this.repo.list(query, limit)
  }

  get(id: number): GenerationRecord {
    const record = this.repo.get(id)
    if (!record) throw new ApiError('not_found', `Generation ${id} does not exist.`)
    const p = this.pending.get(`g${id}`)
    return p ? { ...record, text: p.text, tokens: p.tokens.length, tokenInfo: p.tokens } : record
  }

  private send(requestId: string): void {
    const p = this.pending.get(requestId)!
    p.sent = this.supervisor.sendToWorker(p.jobId, { type: 'generate', requestId, prompt: p.prompt, params: p.params })
    if (!p.sent) this.complete(requestId, { state: 'failed', stopReason: 'error', message: 'The generation worker is not running.' })
  }

  private onWorkerEvent(jobId: number, event: GenerationWorkerEvent): void {
    if (event.kind === 'ready') {
      const session = this.sessionOfJob(jobId)
      if (!session) return
      Object.assign(session, { state: 'ready', model: event.model })
      for (const id of session.waiting.splice(0)) if (this.pending.has(id)) this.send(id)
      this.emit({ type: 'model', session: publicSession(session) })
      return
    }
    if (event.kind === 'serving' || event.kind === 'serve-stopped') {
      const session = this.sessionOfJob(jobId)
      if (!session) return
      if (event.kind === 'serve-stopped') session.serve = event.message && session.serve ? { ...session.serve, state: 'failed', message: event.message } : null
      else if (session.serve) {
        const { kind: _kind, url, ...counts } = event
        session.serve = { ...session.serve, ...counts, state: 'serving', baseUrl: `${url}/v1` }
      }
      this.emit({ type: 'model', session: publicSession(session) })
      return
    }
    const p = this.pending.get(event.requestId)
    if (!p || p.jobId !== jobId) return
    switch (event.kind) {
      case 'tokens':
        p.tokens.push(...event.tokens)
        p.text += event.text
        this.emit({ type: 'tokens', id: p.recordId, tokens: event.tokens, text: event.text })
        break
      case 'notice':
        p.notices.push(event.message)
        this.emit({ type: 'notice', id: p.recordId, message: event.message })
        break
      case 'done': {
        const r = event.result
        this.complete(event.requestId, { text: r.text, state: r.stopReason === 'stopped' ? 'stopped' : 'done', stopReason: r.stopReason, durationSeconds: r.duration_seconds, message: r.message })
        break
      }
      case 'error':
        this.complete(event.requestId, { state: 'failed', stopReason: 'error', message: event.message })
        break
    }
  }

  private complete(
    requestId: string,
    f: { text?: string; state: 'done' | 'stopped' | 'failed'; stopReason: GenerationRecord['stopReason'] & string; durationSeconds?: number; message: string | null }
  ): void {
    const p = this.pending.get(requestId)
    if (!p) return
    this.pending.delete(requestId)
    const message = [...p.notices, ...(f.message && !p.notices.includes(f.message) ? [f.message] : [])].join(' ') || null
    const record = this.repo.finish(p.recordId, {
      text: f.text ?? p.text,
      state: f.state,
      stopReason: f.stopReason,
      tokens: p.tokens.length,
      durationSeconds: f.durationSeconds ?? null,
      message,
      tokenInfo: p.tokens
    })
    this.emit({ type: 'finished', record })
  }

  /** A generation worker that ended (unloaded, cancelled, crashed) takes its session and requests with it. */
  private onJob(job: Job): void {
    if (job.kind !== 'generate' || !['done', 'failed', 'cancelled'].includes(job.state)) return
    const session = this.sessionOfJob(job.id)
    if (session) {
      this.sessions.delete(session.checkpoint)
      Object.assign(session, { state: job.state === 'failed' ? 'failed' : 'unloaded', error: job.error, serve: null })
      this.emit({ type: 'model', session: publicSession(session) })
    }
    for (const [id, p] of this.pending) {
      if (p.jobId === job.id)
        this.complete(id, { state: 'failed', stopReason: 'error', message: `The generation worker ${job.state === 'failed' ? `failed: ${job.error}` : 'ended'} before this generation finished.` })
    }
  }

  /** The worker finishes its job (done) on unload; its requests still running end with it. */
  private unloadSession(session: Session): void {
    this.sessions.delete(session.checkpoint)
    this.supervisor.sendToWorker(session.jobId, { type: 'unload' })
    this.emit({ type: 'model', session: { ...publicSession(session), state: 'unloaded', serve: null } })
  }

  private sessionOfJob(jobId: number): Session | undefined {
    return [...this.sessions.values()].find((s) => s.jobId === jobId)
  }

  private makeRoom(): void {
    const busy = new Set([...this.pending.values()].map((p) => p.jobId))
    const idle = [...this.sessions.values()].filter((s) => !busy.has(s.jobId)).sort((a, b) => a.lastUsed - b.lastUsed)
    while (this.sessions.size >= MAX_LOADED && idle.length) this.unloadSession(idle.shift()!)
  }
}

function publicSession(s: ModelSession): ModelSession {
  return { checkpoint: s.checkpoint, jobId: s.jobId, state: s.state, model: s.model, error: s.error, serve: s.serve ? { ...s.serve } : null }
}

function resolveCheckpoint(checkpoint: string): string {
  try {
    return checkCheckpointFolder(checkpoint)
  } catch (err) {
    throw new ApiError('bad_input', (err as Error).message)
  }
}
