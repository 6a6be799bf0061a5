// Token-shard datasets known to the workspace (made by tokenize or prepare jobs, or the sample).
import type { Dataset } from '../../../shared/runs'
import type { Db } from './database'

interface DatasetRow {
  id: number
  name: string
  kind: 'tokens'
  path: string
  meta: string
  created_at: number
}

const toDataset = (r: DatasetRow): Dataset => ({ id: r.id, name: r.name, kind: r.kind, path: r.path, meta: JSON.parse(r.meta), createdAt: r.created_at })

export class DatasetsRepo {
  private readonly s

  constructor(db: Db) {
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
    this.s.upsert.run(name, path, JSON.stringify(meta), jobId, Date.now())
    return toDataset(this.s.byPath.get(path) as DatasetRow)
  }

  byPath(path: string): Dataset | undefined {
    const row = this.s.byPath.get(path) as DatasetRow | undefined
    return row && toDataset(row)
  }

  list(): Dataset[] {
    return (this.s.list.all() as DatasetRow[]).map(toDataset)
  }
}
