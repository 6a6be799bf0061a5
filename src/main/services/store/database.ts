// Opens the workbench database: WAL journal, foreign keys on, migrations applied in order.
import Database from 'better-sqlite3'
import { MIGRATIONS } from './migrations'

export type Db = Database.Database

export function openDatabase(file: string, migrations: readonly string[] = MIGRATIONS): Db {
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  // WAL with NORMAL sync is durable across process crashes (only a power loss can drop the tail).
  db.pragma('synchronous = NORMAL')
  db.pragma('busy_timeout = 5000')
  migrate(db, migrations)
  return db
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

function migrate(db: Db, migrations: readonly string[]): void {
  const current = schemaVersion(db)
  if (current > migrations.length) {
    throw new Error(`The workspace database is at schema version ${current}, newer than this build knows (${migrations.length}). ` + 'Update GPT Workbench, or point GPTW_HOME at another workspace.')
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      db.exec(migrations[version])
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
