// Resumes of runs in SQLite: one row per train job that continued a run from a checkpoint (step,
// engine, backend, devices, when it started and when its worker loaded the checkpoint), and the
// metric rows that resume took off the run's line, kept as its superseded branch.
import type { ResumeEvent, SeriesColumns, SupersededBranch } from '../../../shared/run-series'
import type { Db } from './database'

interface ResumeRow {
  id: number
  run_id: number
  job_id: number | null
  from_step: number
  engine: string
  backend: string | null
  devices: string
  started_at: number
  loaded_at: number | null
}

const toEvent = (r: ResumeRow): ResumeEvent => ({
  id: r.id,
  runId: r.run_id,
  jobId: r.job_id,
  fromStep: r.from_step,
  engine: r.engine,
  backend: r.backend,
  devices: JSON.parse(r.devices) as string[],
  startedAt: r.started_at,
  loadedAt: r.loaded_at
})

export class ResumeEventsRepo {
  private readonly s

  constructor(private readonly db: Db) {
    this.s = {
      insert: db.prepare(`INSERT INTO resume_events (run_id, job_id, from_step, engine, devices, started_at) VALUES (?, ?, ?, ?, ?, ?)`),
      setBackend: db.prepare(`UPDATE resume_events SET backend = ? WHERE job_id = ?`),
      pending: db.prepare(`SELECT * FROM resume_events WHERE job_id = ? AND loaded_at IS NULL`),
      loaded: db.prepare(`UPDATE resume_events SET loaded_at = ? WHERE id = ?`),
      discard: db.prepare(`DELETE FROM resume_events WHERE job_id = ? AND loaded_at IS NULL`),
      keep: db.prepare(`INSERT OR REPLACE INTO superseded_metrics (resume_id, run_id, step, name, value, ts) SELECT ?, run_id, step, name, value, ts FROM metrics WHERE run_id = ? AND step > ?`),
      list: db.prepare(`SELECT * FROM resume_events WHERE run_id = ? ORDER BY id`),
      branch: db.prepare(`SELECT resume_id, name, step, value FROM superseded_metrics WHERE run_id = ? ORDER BY resume_id, name, step`)
    }
  }

  /** A job starts continuing `runId` from `fromStep`; not a resume yet until its worker loads the checkpoint. */
  begin(runId: number, jobId: number, fromStep: number, engine: string, devices: string[]): void {
    this.s.insert.run(runId, jobId, fromStep, engine, JSON.stringify(devices), Date.now())
  }

  setBackend(jobId: number, backend: string): void {
    this.s.setBackend.run(backend, jobId)
  }

  /**
   * The job's worker loaded its checkpoint: the run's rows past the step are about to be dropped
   * from its line; copy them to this resume's branch first (one transaction with the caller's drop).
   */
  loaded(jobId: number, drop: () => void): void {
    this.db.transaction(() => {
      const row = this.s.pending.get(jobId) as ResumeRow | undefined
      if (row) {
        this.s.keep.run(row.id, row.run_id, row.from_step)
        this.s.loaded.run(Date.now(), row.id)
      }
      drop()
    })()
  }

  /** The job ended before loading its checkpoint: nothing was resumed. */
  discard(jobId: number): void {
    this.s.discard.run(jobId)
  }

  list(runId: number): ResumeEvent[] {
    return (this.s.list.all(runId) as ResumeRow[]).map(toEvent)
  }

  branches(runId: number): SupersededBranch[] {
    const out = new Map<number, Record<string, SeriesColumns>>()
    for (const [resumeId, name, step, value] of this.s.branch.raw().all(runId) as [number, string, number, number][]) {
      let series = out.get(resumeId)
      if (!series) out.set(resumeId, (series = {}))
      const s = (series[name] ??= { step: [], value: [] })
      s.step.push(step)
      s.value.push(value)
    }
    return [...out].map(([resumeId, series]) => ({ resumeId, series }))
  }
}
