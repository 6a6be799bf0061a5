// Opens the workbench database: WAL journal, foreign keys on, migrations applied in order.
import Database from 'better-sqlite3'
import { MIGRATIONS, type Migration } from './migrations'
import { databaseRoot } from './paths'

export type Db = Database.Database

export function openDatabase(file: string, migrations: readonly Migration[] = MIGRATIONS): Db {
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

function migrate(db: Db, migrations: readonly Migration[]): void {
  const current = schemaVersion(db)
  if (current > migrations.length) {
    throw new Error(`The workspace database is at schema version ${current}, newer than this build knows (${migrations.length}). ` + 'Update GPT Workbench, or point GPTW_HOME at another workspace.')
  }
  for (let version = current; version < migrations.length; version++) {
    db.transaction(() => {
      const step = migrations[version]
      if (typeof step === 'string') db.exec(step)
      else step(db, databaseRoot(db.name))
      db.pragma(`user_version = ${version + 1}`)
    })()
  }
}
