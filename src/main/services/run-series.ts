// A run's metrics as columns per metric name, read straight from SQLite in (name, step) order,
// which is the metrics table's primary key, so no sort and no per-point objects: a 100k-step run
// with seven series is 700k rows. Optionally only some names, and only the last N points of each
// (the Train view's throughput estimate needs just a tail).
import path from 'node:path'
import type { EvalPoint, RunOverlay, RunSeries, SeriesColumns } from '../../shared/run-series'
import type { Run } from '../../shared/runs'
import type { Db } from './store/database'
import { StoredPaths } from './store/paths'
import type { ResumeEventsRepo } from './store/resume-events-repo'

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

/**
 * What the loss chart draws over a run's series: its resumes, the rows each resume took off its
 * line, and the eval scores of its checkpoints. Scores are found by the checkpoint folder
 * (<run>/checkpoints/step-N, the step read from the name), so a checkpoint pruned since still
 * shows; a folder trained again after a resume has one row per fingerprint (each eval's own time
 * tells the chart which line it belongs to).
 */
export function readRunOverlay(db: Db, run: Run, resumes: ResumeEventsRepo): RunOverlay {
  const paths = StoredPaths.of(db)
  const root = path.join(run.dir, 'checkpoints')
  const forms = [...new Set([root, paths.toStored(root)])].map((f) => f + path.sep)
  const rows = db
    .prepare(
      `SELECT checkpoint, task, metric, num_fewshot, value, stderr, higher_is_better, created_at FROM eval_results WHERE ${forms.map(() => 'substr(checkpoint, 1, ?) = ?').join(' OR ')} ORDER BY created_at LIMIT 20000`
    )
    .all(...forms.flatMap((f) => [f.length, f])) as {
    checkpoint: string
    task: string
    metric: string
    num_fewshot: number
    value: number
    stderr: number | null
    higher_is_better: number
    created_at: number
  }[]
  const evals: EvalPoint[] = []
  for (const r of rows) {
    const m = /^step-(\d+)$/.exec(path.basename(r.checkpoint))
    if (!m) continue
    evals.push({
      checkpoint: paths.toAbsolute(r.checkpoint),
      step: Number(m[1]),
      task: r.task,
      metric: r.metric,
      numFewshot: r.num_fewshot,
      value: r.value,
      stderr: r.stderr,
      higherIsBetter: r.higher_is_better === 1,
      createdAt: r.created_at
    })
  }
  return { runId: run.id, resumes: resumes.list(run.id), branches: resumes.branches(run.id), evals }
}
