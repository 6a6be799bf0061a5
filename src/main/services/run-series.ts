// A run's metrics as columns per metric name, read straight from SQLite in (name, step) order,
// which is the metrics table's primary key, so no sort and no per-point objects: a 100k-step run
// with seven series is 700k rows. Optionally only some names, and only the last N points of each
// (the Train view's throughput estimate needs just a tail).
import type { RunSeries, SeriesColumns } from '../../shared/run-series'
import type { Db } from './store/database'

export function readRunSeries(db: Db, runId: number, afterStep = -1, names?: string[], tail?: number): RunSeries {
  const series: Record<string, SeriesColumns> = {}
  const wanted = names?.length ? names : (db.prepare(`SELECT DISTINCT name FROM metrics WHERE run_id = ?`).pluck().all(runId) as string[])
  const all = db.prepare(`SELECT step, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step`).raw()
  const last = db.prepare(`SELECT step, value FROM (SELECT step, value FROM metrics WHERE run_id = ? AND name = ? AND step > ? ORDER BY step DESC LIMIT ?) ORDER BY step`).raw()
  for (const name of wanted) {
    const rows = (tail ? last.all(runId, name, afterStep, tail) : all.all(runId, name, afterStep)) as [number, number][]
    if (!rows.length) continue
    const s: SeriesColumns = { step: new Array<number>(rows.length), value: new Array<number>(rows.length) }
    for (let i = 0; i < rows.length; i++) {
      s.step[i] = rows[i][0]
      s.value[i] = rows[i][1]
    }
    series[name] = s
  }
  return { runId, series }
}
