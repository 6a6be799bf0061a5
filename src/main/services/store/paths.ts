// Paths as the database stores them: folders inside the workspace relative to its root (so a
// copied or moved workspace keeps working on its own files), anything else absolute. Repositories
// convert on write and resolve on read, so callers and API replies always see absolute paths.
import path from 'node:path'
import type { Db } from './database'

export class StoredPaths {
  /** `root` is the workspace folder (the database's folder); null keeps every path as given (an in-memory database). */
  constructor(readonly root: string | null) {}

  static of(db: Db): StoredPaths {
    return new StoredPaths(databaseRoot(db.name))
  }

  toStored(p: string): string
  toStored(p: string | null): string | null
  toStored(p: string | null): string | null {
    return p === null || this.root === null ? p : relativeInside(this.root, p)
  }

  toAbsolute(p: string): string
  toAbsolute(p: string | null): string | null
  toAbsolute(p: string | null): string | null {
    if (p === null || this.root === null || p === '' || path.isAbsolute(p)) return p
    return path.resolve(this.root, p)
  }
}

/** The folder a database file lies in, or null for an in-memory or temporary one. */
export function databaseRoot(file: string): string | null {
  return file === '' || file === ':memory:' ? null : path.dirname(path.resolve(file))
}

/** `p` relative to `root` when it lies inside it, else unchanged (relative inputs are taken as they are). */
export function relativeInside(root: string, p: string): string {
  if (!path.isAbsolute(p)) return p
  const rel = path.relative(root, p)
  return rel === '' || rel === '..' || rel.startsWith('..' + path.sep) || path.isAbsolute(rel) ? p : rel
}
