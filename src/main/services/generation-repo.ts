// Generation history in SQLite: one row per generation (written when it starts, completed when it
// ends), its per-token detail as JSON, and full-text search over prompts and outputs (FTS5).
import type { GenerationRecord, GenerationState, SamplingParams, StopReason, TokenInfo } from '../../shared/generate'
import type { Db } from './store/database'
import { StoredPaths } from './store/paths'

interface Row {
  id: number
  checkpoint: string
  prompt: string
  params: string
  output: string
  state: GenerationState
  stop_reason: StopReason | null
  tokens: number
  duration_seconds: number | null
  message: string | null
  compare_group: string | null
  job_id: number | null
  created_at: number
  token_info?: string | null
}

const SUMMARY = 'id, checkpoint, prompt, params, output, state, stop_reason, tokens, duration_seconds, message, compare_group, job_id, created_at'

function toRecord(r: Row, paths: StoredPaths): GenerationRecord {
  const rec: GenerationRecord = {
    id: r.id,
    checkpoint: paths.toAbsolute(r.checkpoint),
    prompt: r.prompt,
    params: JSON.parse(r.params) as SamplingParams,
    text: r.output,
    state: r.state,
    stopReason: r.stop_reason,
    tokens: r.tokens,
    durationSeconds: r.duration_seconds,
    message: r.message,
    compareGroup: r.compare_group,
    jobId: r.job_id,
    createdAt: r.created_at
  }
  if (r.token_info) rec.tokenInfo = JSON.parse(r.token_info) as TokenInfo[]
  return rec
}

/** Each word of the query as a quoted prefix term, so any input is a valid FTS5 query. */
export function ftsQuery(query: string): string | null {
  const words = query.match(/[\p{L}\p{N}_]+/gu)
  return words?.length ? words.map((w) => `"${w}"*`).join(' ') : null
}

export interface Finish {
  text: string
  state: Exclude<GenerationState, 'running'>
  stopReason: StopReason
  tokens: number
  durationSeconds: number | null
  message: string | null
  tokenInfo: TokenInfo[]
}

export class GenerationsRepo {
  private readonly s
  /** Checkpoints inside the workspace are stored relative to it (store/paths.ts), like runs'. */
  private readonly paths: StoredPaths

  constructor(db: Db) {
    this.paths = StoredPaths.of(db)
    this.s = {
      insert: db.prepare(`INSERT INTO generations (checkpoint, prompt, params, output, state, compare_group, job_id, created_at) VALUES (?, ?, ?, '', 'running', ?, ?, ?)`),
      finish: db.prepare(`UPDATE generations SET output = ?, state = ?, stop_reason = ?, tokens = ?, duration_seconds = ?, message = ?, token_info = ? WHERE id = ?`),
      get: db.prepare(`SELECT ${SUMMARY}, token_info FROM generations WHERE id = ?`),
      recent: db.prepare(`SELECT ${SUMMARY} FROM generations ORDER BY id DESC LIMIT ?`),
      search: db.prepare(
        `SELECT ${SUMMARY.split(', ')
          .map((c) => 'g.' + c)
          .join(', ')} FROM generations_fts f JOIN generations g ON g.id = f.rowid WHERE generations_fts MATCH ? ORDER BY g.id DESC LIMIT ?`
      ),
      interrupted: db.prepare(`UPDATE generations SET state = 'failed', stop_reason = 'error', message = 'Interrupted: the workbench stopped during this generation.' WHERE state = 'running'`)
    }
  }

  create(checkpoint: string, prompt: string, params: SamplingParams, compareGroup: string | null, jobId: number | null): GenerationRecord {
    const id = Number(this.s.insert.run(this.paths.toStored(checkpoint), prompt, JSON.stringify(params), compareGroup, jobId, Date.now()).lastInsertRowid)
    return this.get(id)!
  }

  finish(id: number, f: Finish): GenerationRecord {
    this.s.finish.run(f.text, f.state, f.stopReason, f.tokens, f.durationSeconds, f.message, JSON.stringify(f.tokenInfo), id)
    return this.get(id)!
  }

  get(id: number): GenerationRecord | null {
    const row = this.s.get.get(id) as Row | undefined
    return row ? toRecord(row, this.paths) : null
  }

  /** Newest first; with a query, those whose prompt or output has every word (as a prefix). */
  list(query: string | undefined, limit: number): GenerationRecord[] {
    const q = query ? ftsQuery(query) : null
    const rows = (q ? this.s.search.all(q, limit) : this.s.recent.all(limit)) as Row[]
    return rows.map((r) => toRecord(r, this.paths))
  }

  /** Generations that were running when the previous host stopped. */
  markInterrupted(): number {
    return this.s.interrupted.run().changes
  }
}
