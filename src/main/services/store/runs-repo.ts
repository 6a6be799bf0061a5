// Runs, their metric series and their checkpoints in SQLite. Written by main from worker messages.
import type { TrainConfig } from '../../../shared/config/train'
import type { CheckpointInfo, MetricPoint, Run } from '../../../shared/runs'
import type { Db } from './database'
import { StoredPaths } from './paths'

interface RunRow {
  id: number
  name: string
  job_id: number | null
  config: string
  backend: string | null
  devices: string
  dir: string
  dataset_dir: string | null
  created_at: number
}

function toRun(r: RunRow, paths: StoredPaths): Run {
  return {
    id: r.id,
    name: r.name,
    jobId: r.job_id,
    config: JSON.parse(r.config) as TrainConfig,
    backend: r.backend,
    devices: JSON.parse(r.devices) as string[],
    dir: paths.toAbsolute(r.dir),
    datasetDir: paths.toAbsolute(r.dataset_dir),
    createdAt: r.created_at
  }
}

export class RunsRepo {
  private readonly s
  /** Folders inside the workspace are stored relative to it (store/paths.ts). */
  private readonly paths: StoredPaths

  constructor(private readonly db: Db) {
    this.paths = StoredPaths.of(db)
    this.s = {
      insert: db.prepare(`INSERT INTO runs (name, config, devices, dir, dataset_dir, created_at) VALUES (?, ?, ?, '', ?, ?)`),
      setDir: db.prepare(`UPDATE runs SET dir = ? WHERE id = ?`),
      setJob: db.prepare(`UPDATE runs SET job_id = ? WHERE id = ?`),
      setBackend: db.prepare(`UPDATE runs SET backend = ? WHERE id = ?`),
      get: db.prepare(`SELECT * FROM runs WHERE id = ?`),
      byJob: db.prepare(`SELECT * FROM runs WHERE job_id = ?`),
      list: db.prepare(`SELECT * FROM runs ORDER BY id DESC LIMIT ?`),
      metric: db.prepare(`INSERT OR REPLACE INTO metrics (run_id, step, name, value, ts) VALUES (?, ?, ?, ?, ?)`),
      metrics: db.prepare(`SELECT step, name, value, ts FROM metrics WHERE run_id = ? AND step > ? ORDER BY step, name`),
      dropMetricsAfter: db.prepare(`DELETE FROM metrics WHERE run_id = ? AND step > ?`),
      checkpoint: db.prepare(`INSERT OR REPLACE INTO checkpoints (run_id, step, path, bytes, val_loss, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      checkpoints: db.prepare(`SELECT id, run_id AS runId, step, path, bytes, val_loss AS valLoss, pinned, created_at AS createdAt FROM checkpoints WHERE run_id = ? ORDER BY step`),
      deleteCheckpoint: db.prepare(`DELETE FROM checkpoints WHERE run_id = ? AND step = ?`)
    }
  }

  create(name: string, config: TrainConfig, datasetDir: string, dirFor: (id: number) => string): Run {
    const id = this.db.transaction(() => {
      const info = this.s.insert.run(name, JSON.stringify(config), JSON.stringify(config.devices), this.paths.toStored(datasetDir), Date.now())
      const runId = Number(info.lastInsertRowid)
      this.s.setDir.run(this.paths.toStored(dirFor(runId)), runId)
      return runId
    })()
    return this.get(id)!
  }

  get(id: number): Run | undefined {
    const row = this.s.get.get(id) as RunRow | undefined
    return row && toRun(row, this.paths)
  }

  byJob(jobId: number): Run | undefined {
    const row = this.s.byJob.get(jobId) as RunRow | undefined
    return row && toRun(row, this.paths)
  }

  list(limit = 200): Run[] {
    return (this.s.list.all(limit) as RunRow[]).map((r) => toRun(r, this.paths))
  }

  setJob(runId: number, jobId: number): void {
    this.s.setJob.run(jobId, runId)
  }

  setBackend(runId: number, backend: string): void {
    this.s.setBackend.run(backend, runId)
  }

  addMetrics(runId: number, step: number, values: Record<string, number>): void {
    const ts = Date.now()
    this.db.transaction(() => {
      for (const [name, value] of Object.entries(values)) if (Number.isFinite(value)) this.s.metric.run(runId, step, name, value, ts)
    })()
  }

  metrics(runId: number, afterStep = -1): MetricPoint[] {
    return this.s.metrics.all(runId, afterStep) as MetricPoint[]
  }

  /** A resumed run continues from `step`: later points belong to the abandoned continuation. */
  truncateMetrics(runId: number, step: number): void {
    this.s.dropMetricsAfter.run(runId, step)
  }

  addCheckpoint(runId: number, step: number, path: string, bytes: number, valLoss: number | null): void {
    this.s.checkpoint.run(runId, step, this.paths.toStored(path), bytes, valLoss, Date.now())
  }

  checkpoints(runId: number): CheckpointInfo[] {
    return (this.s.checkpoints.all(runId) as (Omit<CheckpointInfo, 'pinned'> & { pinned: number })[]).map((c) => ({ ...c, path: this.paths.toAbsolute(c.path), pinned: !!c.pinned }))
  }

  removeCheckpoint(runId: number, step: number): void {
    this.s.deleteCheckpoint.run(runId, step)
  }
}
