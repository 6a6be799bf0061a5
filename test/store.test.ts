import path from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { MIGRATIONS } from '../src/main/services/store/migrations'
import { openDatabase, schemaVersion } from '../src/main/services/store/database'
import { JobsRepo } from '../src/main/services/store/jobs-repo'
import { tempDir } from './helpers'

const TABLES = ['jobs', 'job_logs', 'runs', 'metrics', 'checkpoints', 'datasets', 'eval_cache', 'eval_results', 'generations']

describe('SQLite store', () => {
  it('creates every table in WAL mode at the latest schema version', () => {
    const file = path.join(tempDir(), 'wb.db')
    const db = openDatabase(file)
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(schemaVersion(db)).toBe(MIGRATIONS.length)
    const tables = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((t) => t.name)
    expect(tables).toEqual(expect.arrayContaining(TABLES))
    db.close()
  })

  it('keeps data across reopen and does not re-run applied migrations', () => {
    const file = path.join(tempDir(), 'wb.db')
    const db = openDatabase(file)
    const job = new JobsRepo(db).create('tokenize', { input: 'a.txt' })
    db.close()
    const again = openDatabase(file)
    expect(new JobsRepo(again).get(job.id)?.params).toEqual({ input: 'a.txt' })
    again.close()
  })

  it('applies only the new migrations to an older database', () => {
    const file = path.join(tempDir(), 'wb.db')
    openDatabase(file, MIGRATIONS.slice(0, 1)).close()
    const db = openDatabase(file, [...MIGRATIONS, 'CREATE TABLE extra (x INTEGER)'])
    expect(schemaVersion(db)).toBe(MIGRATIONS.length + 1)
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'extra'`).get()).toEqual({ n: 1 })
    db.close()
  })

  it('rolls back a failing migration and leaves the version where it was', () => {
    const file = path.join(tempDir(), 'wb.db')
    expect(() => openDatabase(file, [...MIGRATIONS, 'CREATE TABLE ok1 (x INTEGER); CREATE TABLE broken ('])).toThrow()
    const raw = new Database(file)
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    expect(raw.prepare(`SELECT count(*) AS n FROM sqlite_master WHERE name = 'ok1'`).get()).toEqual({ n: 0 })
    raw.close()
  })

  it('refuses a database from a newer build with a clear message', () => {
    const file = path.join(tempDir(), 'wb.db')
    const raw = new Database(file)
    raw.pragma(`user_version = ${MIGRATIONS.length + 5}`)
    raw.close()
    expect(() => openDatabase(file)).toThrow(/newer than this build knows/)
  })

  it('records a job through its life: progress, logs, result', () => {
    const db = openDatabase(path.join(tempDir(), 'wb.db'))
    const repo = new JobsRepo(db)
    const job = repo.create('tokenize', { input: 'x' })
    expect(job.state).toBe('queued')
    repo.markStarted(job.id, 1234)
    repo.setProgress(job.id, 0.5, 'half')
    repo.appendLog(job.id, 'info', 'first')
    const second = repo.appendLog(job.id, 'warn', 'second')
    repo.finish(job.id, 'done', null, { tokens: 10 })
    const done = repo.get(job.id)!
    expect(done).toMatchObject({ state: 'done', progress: 0.5, progressText: 'half', result: { tokens: 10 } })
    expect(done.endedAt).toBeGreaterThanOrEqual(done.startedAt!)
    expect(repo.logs(job.id).map((l) => l.text)).toEqual(['first', 'second'])
    expect(repo.logs(job.id, second.id - 1).map((l) => l.level)).toEqual(['warn'])
    expect(repo.active()).toEqual([])
    expect(db.prepare(`SELECT state FROM jobs`).all()).toEqual([{ state: 'done' }])
    db.close()
  })

  it('rejects an unknown job state at the database level', () => {
    const db = openDatabase(path.join(tempDir(), 'wb.db'))
    const job = new JobsRepo(db).create('tokenize', {})
    expect(() => db.prepare(`UPDATE jobs SET state = 'exploded' WHERE id = ?`).run(job.id)).toThrow(/CHECK constraint/)
    db.close()
  })
})
