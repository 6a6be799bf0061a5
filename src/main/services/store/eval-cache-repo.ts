// The eval request cache in SQLite (table eval_cache): one row per answered request, keyed by the
// hash of checkpoint fingerprint, request type and arguments. Written by main from the eval
// worker's eval-cache-put messages; read to answer its eval-cache-get lookups.
import type { EvalResult } from '../../../shared/eval'
import type { EvalCacheEntry } from '../../../shared/protocol'
import type { Statement } from 'better-sqlite3'
import type { Db } from './database'

/** SQLite's default limit on bound parameters is 32766; stay well inside it. */
const KEYS_PER_QUERY = 500

export class EvalCacheRepo {
  private readonly insert
  private readonly lookups = new Map<number, Statement<unknown[]>>()

  constructor(private readonly db: Db) {
    this.insert = db.prepare(`INSERT OR REPLACE INTO eval_cache (key, fingerprint, request_type, args, result, created_at) VALUES (?, ?, ?, ?, ?, ?)`)
  }

  get(fingerprint: string, keys: readonly string[]): Map<string, EvalResult> {
    const out = new Map<string, EvalResult>()
    for (let s = 0; s < keys.length; s += KEYS_PER_QUERY) {
      const part = keys.slice(s, s + KEYS_PER_QUERY)
      const rows = this.lookup(part.length).all([fingerprint, ...part]) as { key: string; result: string }[]
      for (const r of rows) out.set(r.key, JSON.parse(r.result) as EvalResult)
    }
    return out
  }

  put(fingerprint: string, entries: readonly EvalCacheEntry[]): void {
    const now = Date.now()
    this.db.transaction(() => {
      for (const e of entries) this.insert.run(e.key, fingerprint, e.requestType, JSON.stringify(e.args), JSON.stringify(e.result), now)
    })()
  }

  count(fingerprint?: string): number {
    const row = (
      fingerprint === undefined ? this.db.prepare(`SELECT COUNT(*) AS n FROM eval_cache`).get() : this.db.prepare(`SELECT COUNT(*) AS n FROM eval_cache WHERE fingerprint = ?`).get(fingerprint)
    ) as { n: number }
    return row.n
  }

  private lookup(n: number) {
    let stmt = this.lookups.get(n)
    if (!stmt) this.lookups.set(n, (stmt = this.db.prepare(`SELECT key, result FROM eval_cache WHERE fingerprint = ? AND key IN (${Array(n).fill('?').join(',')})`)))
    return stmt
  }
}
