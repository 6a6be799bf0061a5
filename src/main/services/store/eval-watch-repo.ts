// Watched runs in SQLite: the eval settings applied to each checkpoint a run saves, and the last
// eval job a watch started. Kept across host restarts.
import { EvalWatchSettings } from '../../../shared/eval-watch'
import type { Db } from './database'

export interface StoredWatch {
  runId: number
  settings: EvalWatchSettings
  createdAt: number
  lastJobId: number | null
  lastStep: number | null
}

interface WatchRow {
  run_id: number
  settings: string
  created_at: number
  last_job_id: number | null
  last_step: number | null
}

function toWatch(r: WatchRow): StoredWatch {
  return { runId: r.run_id, settings: EvalWatchSettings.parse(JSON.parse(r.settings)), createdAt: r.created_at, lastJobId: r.last_job_id, lastStep: r.last_step }
}

export class EvalWatchRepo {
  private readonly s

  constructor(db: Db) {
    this.s = {
      upsert: db.prepare(`INSERT INTO eval_watches (run_id, settings, created_at) VALUES (?, ?, ?) ON CONFLICT(run_id) DO UPDATE SET settings = excluded.settings`),
      get: db.prepare(`SELECT * FROM eval_watches WHERE run_id = ?`),
      list: db.prepare(`SELECT * FROM eval_watches ORDER BY run_id DESC`),
      remove: db.prepare(`DELETE FROM eval_watches WHERE run_id = ?`),
      setLast: db.prepare(`UPDATE eval_watches SET last_job_id = ?, last_step = ? WHERE run_id = ?`)
    }
  }

  /** Watches a run, or replaces the settings of a run already watched. */
  upsert(runId: number, settings: EvalWatchSettings): StoredWatch {
    this.s.upsert.run(runId, JSON.stringify(settings), Date.now())
    return this.get(runId)!
  }

  get(runId: number): StoredWatch | undefined {
    const row = this.s.get.get(runId) as WatchRow | undefined
    return row && toWatch(row)
  }

  list(): StoredWatch[] {
    return (this.s.list.all() as WatchRow[]).map(toWatch)
  }

  /** False when the run was not watched. */
  remove(runId: number): boolean {
    return this.s.remove.run(runId).changes > 0
  }

  setLast(runId: number, jobId: number, step: number): void {
    this.s.setLast.run(jobId, step, runId)
  }
}
