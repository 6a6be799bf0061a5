// Token-shard datasets known to the workspace (made by tokenize or prepare jobs, or the sample).
import type { Dataset } from '../../../shared/runs'
import type { Db } from './database'
import { StoredPaths } from './paths'

interface DatasetRow {
  id: number
  name: string
  kind: 'tokens'
  path: string
  meta: string
  created_at: number
}

const toDataset = (r: DatasetRow, paths: StoredPaths): Dataset => ({ id: r.id, name: r.name, kind: r.kind, path: paths.toAbsolute(r.path), meta: JSON.parse(r.meta), createdAt: r.created_at })

export class DatasetsRepo {
  private readonly s
  /** Datasets inside the workspace are stored relative to it (store/paths.ts). */
  private readonly paths: StoredPaths

  constructor(db: Db) {
    this.paths = StoredPaths.of(db)
    this.s = {
      upsert: db.prepare(
        `INSERT INTO datasets (name, kind, path, meta, job_id, created_at) VALUES (?, 'tokens', ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET name = excluded.name, meta = excluded.meta, job_id = excluded.job_id`
      ),
      byPath: db.prepare(`SELECT * FROM datasets WHERE path = ?`),
      list: db.prepare(`SELECT * FROM datasets ORDER BY id DESC`)
    }
  }

  upsert(name: string, path: string, meta: Dataset['meta'], jobId: number | null = null): Dataset {
    const stored = this.paths.toStored(path)
    this.s.upsert.run(name, stored, JSON.stringify(meta), jobId, Date.now())
    return toDataset(this.s.byPath.get(stored) as DatasetRow, this.paths)
  }

  byPath(path: string): Dataset | undefined {
    const row = this.s.byPath.get(this.paths.toStored(path)) as DatasetRow | undefined
    return row && toDataset(row, this.paths)
  }

  list(): Dataset[] {
    return (this.s.list.all() as DatasetRow[]).map((r) => toDataset(r, this.paths))
  }
}
