// Versioned schema migrations. Each entry moves the database from version i to i+1 and runs
// inside one transaction; PRAGMA user_version records how far a database has come.
// Append new migrations; never edit one that has shipped. A migration is SQL, or a function for
// what SQL cannot do alone (it gets the workspace folder the database lies in; null in memory).
import path from 'node:path'
import type { Db } from './database'
import { relativeInside } from './paths'

export type Migration = string | ((db: Db, root: string | null) => void)

export const MIGRATIONS: readonly Migration[] = [
  /* 1: the initial schema */ `
  CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT    NOT NULL,
    state         TEXT    NOT NULL CHECK (state IN ('queued','running','paused','done','failed','cancelled')),
    params        TEXT    NOT NULL,
    progress      REAL    NOT NULL DEFAULT 0,
    progress_text TEXT    NOT NULL DEFAULT '',
    error         TEXT,
    result        TEXT,
    pid           INTEGER,
    created_at    INTEGER NOT NULL,
    started_at    INTEGER,
    ended_at      INTEGER
  );
  CREATE INDEX jobs_state ON jobs(state);

  CREATE TABLE job_logs (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    ts     INTEGER NOT NULL,
    level  TEXT    NOT NULL,
    text   TEXT    NOT NULL
  );
  CREATE INDEX job_logs_job ON job_logs(job_id, id);

  CREATE TABLE datasets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    meta       TEXT    NOT NULL DEFAULT '{}',
    job_id     INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE runs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL,
    job_id     INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    dataset_id INTEGER REFERENCES datasets(id) ON DELETE SET NULL,
    config     TEXT    NOT NULL,
    backend    TEXT,
    devices    TEXT    NOT NULL DEFAULT '[]',
    dir        TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step   INTEGER NOT NULL,
    name   TEXT    NOT NULL,
    value  REAL    NOT NULL,
    ts     INTEGER NOT NULL,
    PRIMARY KEY (run_id, name, step)
  ) WITHOUT ROWID;

  CREATE TABLE checkpoints (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    path       TEXT    NOT NULL,
    bytes      INTEGER NOT NULL,
    val_loss   REAL,
    pinned     INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (run_id, step)
  );

  CREATE TABLE eval_cache (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    request_type TEXT NOT NULL,
    args         TEXT NOT NULL,
    result       TEXT NOT NULL,
    created_at   INTEGER NOT NULL
  );
  CREATE INDEX eval_cache_fingerprint ON eval_cache(fingerprint);

  CREATE TABLE eval_results (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    checkpoint  TEXT    NOT NULL,
    fingerprint TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    metric      TEXT    NOT NULL,
    value       REAL    NOT NULL,
    stderr      REAL,
    num_fewshot INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    UNIQUE (fingerprint, task, metric, num_fewshot)
  );

  CREATE TABLE generations (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    checkpoint TEXT    NOT NULL,
    prompt     TEXT    NOT NULL,
    params     TEXT    NOT NULL,
    output     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  /* 2: the token shard folder a run trains on */ `
  ALTER TABLE runs ADD COLUMN dataset_dir TEXT;
  CREATE UNIQUE INDEX datasets_path ON datasets(path);
  `,
  /* 3: what the results matrix shows beside a value (task version, documents, the limit that
     produced it, its direction), the scored samples behind it, and tasks that could not run */ `
  ALTER TABLE eval_results ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE eval_results ADD COLUMN documents INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE eval_results ADD COLUMN doc_limit INTEGER;
  ALTER TABLE eval_results ADD COLUMN higher_is_better INTEGER NOT NULL DEFAULT 1;
  CREATE INDEX eval_results_checkpoint ON eval_results(checkpoint);

  CREATE TABLE eval_samples (
    fingerprint TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    num_fewshot INTEGER NOT NULL,
    doc_id      INTEGER NOT NULL,
    data        TEXT    NOT NULL,
    PRIMARY KEY (fingerprint, task, num_fewshot, doc_id)
  ) WITHOUT ROWID;

  CREATE TABLE eval_failures (
    fingerprint TEXT    NOT NULL,
    task        TEXT    NOT NULL,
    num_fewshot INTEGER NOT NULL,
    checkpoint  TEXT    NOT NULL,
    job_id      INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    message     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (fingerprint, task, num_fewshot)
  );
  `,
  /* 4: generation history: how each generation ended, its per-token detail, side-by-side groups,
     and full-text search over prompts and outputs */ `
  ALTER TABLE generations ADD COLUMN state TEXT NOT NULL DEFAULT 'done' CHECK (state IN ('running','done','stopped','failed'));
  ALTER TABLE generations ADD COLUMN stop_reason TEXT;
  ALTER TABLE generations ADD COLUMN tokens INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE generations ADD COLUMN duration_seconds REAL;
  ALTER TABLE generations ADD COLUMN message TEXT;
  ALTER TABLE generations ADD COLUMN compare_group TEXT;
  ALTER TABLE generations ADD COLUMN job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL;
  ALTER TABLE generations ADD COLUMN token_info TEXT;
  CREATE INDEX generations_group ON generations(compare_group);

  CREATE VIRTUAL TABLE generations_fts USING fts5(prompt, output, content='generations', content_rowid='id');
  CREATE TRIGGER generations_fts_insert AFTER INSERT ON generations BEGIN
    INSERT INTO generations_fts(rowid, prompt, output) VALUES (new.id, new.prompt, new.output);
  END;
  CREATE TRIGGER generations_fts_delete AFTER DELETE ON generations BEGIN
    INSERT INTO generations_fts(generations_fts, rowid, prompt, output) VALUES ('delete', old.id, old.prompt, old.output);
  END;
  CREATE TRIGGER generations_fts_update AFTER UPDATE OF prompt, output ON generations BEGIN
    INSERT INTO generations_fts(generations_fts, rowid, prompt, output) VALUES ('delete', old.id, old.prompt, old.output);
    INSERT INTO generations_fts(rowid, prompt, output) VALUES (new.id, new.prompt, new.output);
  END;
  INSERT INTO generations_fts(generations_fts) VALUES ('rebuild');
  `,
  /* 5: runs whose checkpoints are evaluated as they are saved: the eval settings (JSON, an
     EvalWatchSettings) and the last eval job a watch started */ `
  CREATE TABLE eval_watches (
    run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
    settings    TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    last_job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    last_step   INTEGER
  );
  `,
  /* 6: run folders, checkpoint folders and datasets inside the workspace stored relative to it, so
     a copied or moved workspace resumes into its own folders. Paths under an older location of
     this workspace (a copy made before this version: its runs sit at <old root>/runs/<id>) count
     as inside too. */
  (db, root) => {
    if (root === null) return
    const roots = new Set([root])
    for (const r of db.prepare(`SELECT id, dir FROM runs`).all() as { id: number; dir: string }[]) {
      const dir = path.resolve(r.dir)
      if (path.isAbsolute(r.dir) && path.basename(dir) === String(r.id) && path.basename(path.dirname(dir)) === 'runs') roots.add(path.dirname(path.dirname(dir)))
    }
    const rel = (p: string | null): string | null => {
      if (p === null) return p
      for (const r of roots) {
        const inside = relativeInside(r, p)
        if (inside !== p) return inside
      }
      return p
    }
    const update = (table: string, key: string, columns: string[]) => {
      const rows = db.prepare(`SELECT ${key} AS k, ${columns.join(', ')} FROM ${table}`).all() as Record<string, string | number | null>[]
      const set = db.prepare(`UPDATE OR IGNORE ${table} SET ${columns.map((c) => `${c} = ?`).join(', ')} WHERE ${key} = ?`)
      for (const row of rows) set.run(...columns.map((c) => rel(row[c] as string | null)), row.k)
    }
    update('runs', 'id', ['dir', 'dataset_dir'])
    update('checkpoints', 'id', ['path'])
    update('datasets', 'id', ['path'])
  },
  /* 7: the checkpoints named by eval results, eval failures and generations stored relative to the
     workspace too (issue 13), so the matrix and the history follow a copied or moved workspace.
     Only paths under the current root move: a checkpoint of another workspace stays absolute. */
  (db, root) => {
    if (root === null) return
    for (const table of ['eval_results', 'eval_failures', 'generations']) {
      const checkpoints = db.prepare(`SELECT DISTINCT checkpoint FROM ${table}`).pluck().all() as string[]
      const set = db.prepare(`UPDATE OR IGNORE ${table} SET checkpoint = ? WHERE checkpoint = ?`)
      for (const checkpoint of checkpoints) {
        const stored = relativeInside(root, checkpoint)
        if (stored !== checkpoint) set.run(stored, checkpoint)
      }
    }
  },
  /* 8: resumes of runs (the checkpoint step, engine, backend, devices, when) and the metric rows a
     resume took off the run's line (steps past its checkpoint trained before it), kept as that
     resume's superseded branch rather than deleted */ `
  CREATE TABLE IF NOT EXISTS resume_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    job_id     INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
    from_step  INTEGER NOT NULL,
    engine     TEXT    NOT NULL,
    backend    TEXT,
    devices    TEXT    NOT NULL DEFAULT '[]',
    started_at INTEGER NOT NULL,
    loaded_at  INTEGER
  );
  CREATE INDEX IF NOT EXISTS resume_events_run ON resume_events(run_id, id);
  CREATE INDEX IF NOT EXISTS resume_events_job ON resume_events(job_id);

  CREATE TABLE IF NOT EXISTS superseded_metrics (
    resume_id INTEGER NOT NULL REFERENCES resume_events(id) ON DELETE CASCADE,
    run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step      INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    value     REAL    NOT NULL,
    ts        INTEGER NOT NULL,
    PRIMARY KEY (run_id, resume_id, name, step)
  ) WITHOUT ROWID;
  `
]
