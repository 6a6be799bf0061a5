// Job rows and their logs in SQLite. The supervisor is the only writer of state transitions.
import { type Job, type JobKind, type JobLogLine, type JobState, outcomeOf } from '../../../shared/jobs'
import type { Db } from './database'

interface JobRow {
  id: number
  kind: JobKind
  state: JobState
  params: string
  progress: number
  progress_text: string
  error: string | null
  result: string | null
  created_at: number
  started_at: number | null
  ended_at: number | null
}

function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    state: row.state,
    params: JSON.parse(row.params),
    progress: row.progress,
    progressText: row.progress_text,
    error: row.error,
    result: row.result === null ? null : JSON.parse(row.result),
    outcome: row.result === null ? null : outcomeOf(JSON.parse(row.result)),
    createdAt: row.created_at,
    startedAt: row.started_at,
    endedAt: row.ended_at
  }
}

export type LogLine = JobLogLine & { id: number }

export class JobsRepo {
  private readonly stmts

  constructor(db: Db) {
    this.stmts = {
      insert: db.prepare(`INSERT INTO jobs (kind, state, params, created_at) VALUES (?, 'queued', ?, ?)`),
      get: db.prepare(`SELECT * FROM jobs WHERE id = ?`),
      pid: db.prepare(`SELECT pid, started_at FROM jobs WHERE id = ?`),
      list: db.prepare(`SELECT * FROM jobs ORDER BY id DESC LIMIT ?`),
      active: db.prepare(`SELECT * FROM jobs WHERE state IN ('queued','running','paused') ORDER BY id`),
      started: db.prepare(`UPDATE jobs SET state = 'running', pid = ?, started_at = ? WHERE id = ?`),
      state: db.prepare(`UPDATE jobs SET state = ? WHERE id = ?`),
      progress: db.prepare(`UPDATE jobs SET progress = ?, progress_text = ? WHERE id = ?`),
      finish: db.prepare(`UPDATE jobs SET state = ?, error = ?, result = ?, ended_at = ?, pid = NULL WHERE id = ?`),
      log: db.prepare(`INSERT INTO job_logs (job_id, ts, level, text) VALUES (?, ?, ?, ?)`),
      logs: db.prepare(`SELECT id, job_id AS jobId, ts, level, text FROM job_logs WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?`)
    }
  }

  create(kind: JobKind, params: unknown): Job {
    const info = this.stmts.insert.run(kind, JSON.stringify(params), Date.now())
    return this.get(Number(info.lastInsertRowid))!
  }

  get(id: number): Job | undefined {
    const row = this.stmts.get.get(id) as JobRow | undefined
    return row && toJob(row)
  }

  list(limit = 200): Job[] {
    return (this.stmts.list.all(limit) as JobRow[]).map(toJob)
  }

  /** Jobs that were queued, running or paused: after a host restart their workers are gone. */
  active(): Job[] {
    return (this.stmts.active.all() as JobRow[]).map(toJob)
  }

  /** The pid of the job's worker while it is active (null before it started and after it ended), and when it started. */
  worker(id: number): { pid: number; startedAt: number | null } | null {
    const row = this.stmts.pid.get(id) as { pid: number | null; started_at: number | null } | undefined
    return row?.pid ? { pid: row.pid, startedAt: row.started_at } : null
  }

  markStarted(id: number, pid: number): void {
    this.stmts.started.run(pid, Date.now(), id)
  }

  setState(id: number, state: 'running' | 'paused'): void {
    this.stmts.state.run(state, id)
  }

  setProgress(id: number, progress: number, text: string): void {
    this.stmts.progress.run(progress, text, id)
  }

  finish(id: number, state: 'done' | 'failed' | 'cancelled', error: string | null, result: unknown = null): void {
    this.stmts.finish.run(state, error, result === null || result === undefined ? null : JSON.stringify(result), Date.now(), id)
  }

  appendLog(jobId: number, level: JobLogLine['level'], text: string): LogLine {
    const ts = Date.now()
    const info = this.stmts.log.run(jobId, ts, level, text)
    return { id: Number(info.lastInsertRowid), jobId, ts, level, text }
  }

  logs(jobId: number, afterId = 0, limit = 1000): LogLine[] {
    return this.stmts.logs.all(jobId, afterId, limit) as LogLine[]
  }
}
