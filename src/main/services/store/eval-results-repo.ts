// Evaluation results in SQLite: one row per (checkpoint fingerprint, task, metric, few-shot) in
// eval_results (the latest evaluation of that cell wins, with the document count and limit that
// produced it), the scored samples behind each task in eval_samples, and tasks that could not run
// in eval_failures. Written by main from the eval worker's eval-task messages.
import type { EvalResultRow, EvalSample, EvalSamplePage, EvalTaskFailure, TaskResult } from '../../../shared/eval'
import type { Db } from './database'
import { StoredPaths } from './paths'

export interface TaskOutcome {
  jobId: number | null
  checkpoint: string
  fingerprint: string
  task: string
  numFewshot: number
  limit: number | null
  result: TaskResult | null
  error: string | null
  samples: EvalSample[]
}

interface ResultRow {
  checkpoint: string
  fingerprint: string
  task: string
  version: number
  metric: string
  value: number
  stderr: number | null
  higher_is_better: number
  num_fewshot: number
  documents: number
  doc_limit: number | null
  job_id: number | null
  created_at: number
}

const toRow = (r: ResultRow, paths: StoredPaths): EvalResultRow => ({
  checkpoint: paths.toAbsolute(r.checkpoint),
  fingerprint: r.fingerprint,
  task: r.task,
  version: r.version,
  metric: r.metric,
  value: r.value,
  stderr: r.stderr,
  higherIsBetter: r.higher_is_better === 1,
  numFewshot: r.num_fewshot,
  documents: r.documents,
  limit: r.doc_limit,
  jobId: r.job_id,
  createdAt: r.created_at
})

export interface ResultsQuery {
  checkpoints?: readonly string[]
  jobId?: number
  numFewshot?: number
}

export class EvalResultsRepo {
  private readonly s
  /** Checkpoints inside the workspace are stored relative to it (store/paths.ts), like runs'. */
  private readonly paths: StoredPaths

  constructor(private readonly db: Db) {
    this.paths = StoredPaths.of(db)
    this.s = {
      dropResults: db.prepare(`DELETE FROM eval_results WHERE fingerprint = ? AND task = ? AND num_fewshot = ?`),
      insertResult: db.prepare(
        `INSERT INTO eval_results (job_id, checkpoint, fingerprint, task, metric, value, stderr, num_fewshot, created_at, version, documents, doc_limit, higher_is_better)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
      ),
      dropSamples: db.prepare(`DELETE FROM eval_samples WHERE fingerprint = ? AND task = ? AND num_fewshot = ?`),
      insertSample: db.prepare(`INSERT INTO eval_samples (fingerprint, task, num_fewshot, doc_id, data) VALUES (?, ?, ?, ?, ?)`),
      dropFailure: db.prepare(`DELETE FROM eval_failures WHERE fingerprint = ? AND task = ? AND num_fewshot = ?`),
      insertFailure: db.prepare(`INSERT OR REPLACE INTO eval_failures (fingerprint, task, num_fewshot, checkpoint, job_id, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      samples: db.prepare(`SELECT data FROM eval_samples WHERE fingerprint = ? AND task = ? AND num_fewshot = ? ORDER BY doc_id LIMIT ? OFFSET ?`),
      sampleCount: db.prepare(`SELECT COUNT(*) AS n FROM eval_samples WHERE fingerprint = ? AND task = ? AND num_fewshot = ?`)
    }
  }

  /** Records one task's outcome for one checkpoint, replacing what that cell held. */
  record(o: TaskOutcome): EvalResultRow[] {
    const now = Date.now()
    const key = [o.fingerprint, o.task, o.numFewshot] as const
    this.db.transaction(() => {
      if (!o.result) {
        // A task that could not run keeps any earlier result; the failure is shown beside it.
        this.s.insertFailure.run(...key, this.paths.toStored(o.checkpoint), o.jobId, o.error ?? 'unknown error', now)
        return
      }
      this.s.dropFailure.run(...key)
      this.s.dropResults.run(...key)
      for (const [metric, m] of Object.entries(o.result.metrics)) {
        this.s.insertResult.run(
          o.jobId,
          this.paths.toStored(o.checkpoint),
          o.fingerprint,
          o.task,
          metric,
          m.value,
          m.stderr,
          o.numFewshot,
          now,
          o.result.version,
          o.result.documents,
          o.limit,
          m.higherIsBetter ? 1 : 0
        )
      }
      this.s.dropSamples.run(...key)
      for (const sample of o.samples) this.s.insertSample.run(...key, sample.docId, JSON.stringify(sample))
    })()
    return o.result ? this.results({ checkpoints: [o.checkpoint], numFewshot: o.numFewshot }).filter((r) => r.fingerprint === o.fingerprint && r.task === o.task) : []
  }

  results(q: ResultsQuery = {}): EvalResultRow[] {
    const where: string[] = []
    const args: (string | number)[] = []
    if (q.checkpoints) {
      if (!q.checkpoints.length) return []
      where.push(`checkpoint IN (${q.checkpoints.map(() => '?').join(',')})`)
      args.push(...q.checkpoints.map((c) => this.paths.toStored(c)))
    }
    if (q.jobId !== undefined) {
      where.push('job_id = ?')
      args.push(q.jobId)
    }
    if (q.numFewshot !== undefined) {
      where.push('num_fewshot = ?')
      args.push(q.numFewshot)
    }
    const sql = `SELECT * FROM eval_results ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY checkpoint, task, metric LIMIT 20000`
    return (this.db.prepare(sql).all(...args) as ResultRow[]).map((r) => toRow(r, this.paths))
  }

  failures(q: ResultsQuery = {}): EvalTaskFailure[] {
    const rows = this.db.prepare(`SELECT job_id, checkpoint, task, message, num_fewshot FROM eval_failures ORDER BY created_at`).all() as {
      job_id: number | null
      checkpoint: string
      task: string
      message: string
      num_fewshot: number
    }[]
    const wanted = q.checkpoints?.map((c) => this.paths.toStored(c))
    return rows
      .filter((r) => (!wanted || wanted.includes(r.checkpoint)) && (q.jobId === undefined || r.job_id === q.jobId) && (q.numFewshot === undefined || r.num_fewshot === q.numFewshot))
      .map((r) => ({ jobId: r.job_id, numFewshot: r.num_fewshot, checkpoint: this.paths.toAbsolute(r.checkpoint), task: r.task, message: r.message }))
  }

  samples(fingerprint: string, task: string, numFewshot: number, offset: number, limit: number): EvalSamplePage {
    const { n } = this.s.sampleCount.get(fingerprint, task, numFewshot) as { n: number }
    const rows = this.s.samples.all(fingerprint, task, numFewshot, limit, offset) as { data: string }[]
    return { total: n, samples: rows.map((r) => JSON.parse(r.data) as EvalSample) }
  }
}
