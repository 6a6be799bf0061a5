// The workspace folder: the database, datasets, runs and downloaded eval data live here.
// Default ~/.gpt-workbench; GPTW_HOME overrides it (tests give each case its own).
// One process owns a workspace at a time (workbench.lock holds its pid): only the owner runs
// jobs and repairs the database at start-up; other processes (a `gptw jobs` beside `gptw serve`)
// open it to read.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { processRuns } from '../../core/durable-file'

export interface Workspace {
  root: string
  dbFile: string
  datasetsDir: string
  runsDir: string
  evalDataDir: string
  lockFile: string
}

export function resolveWorkspace(root = process.env.GPTW_HOME || path.join(os.homedir(), '.gpt-workbench')): Workspace {
  const abs = path.resolve(root)
  const ws: Workspace = {
    root: abs,
    dbFile: path.join(abs, 'workbench.db'),
    datasetsDir: path.join(abs, 'datasets'),
    runsDir: path.join(abs, 'runs'),
    evalDataDir: path.join(abs, 'eval-data'),
    lockFile: path.join(abs, 'workbench.lock')
  }
  try {
    for (const dir of [ws.root, ws.datasetsDir, ws.runsDir, ws.evalDataDir]) fs.mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new Error(`Cannot create the workspace at ${abs} (${(err as Error).message}). Set GPTW_HOME to a writable folder.`, { cause: err })
  }
  return ws
}

/** Who holds a workspace: this process (owner) or another live one (ownerPid). */
export interface WorkspaceLock {
  owner: boolean
  ownerPid: number
  file: string
  /** Gives the workspace up (owner only; idempotent). */
  release(): void
}

/** Lock files this process holds: a second Workbench in the same process on the same folder is not its owner. */
const held = new Set<string>()

/**
 * Takes the workspace's lock when no live process holds it: an exclusive create of workbench.lock
 * with our pid; a lock whose pid no longer runs (a host that was killed) is taken over. A pid
 * reused by an unrelated process keeps the workspace locked: delete workbench.lock by hand then.
 */
export function lockWorkspace(ws: Workspace): WorkspaceLock {
  const file = ws.lockFile
  const notOwner = (ownerPid: number): WorkspaceLock => ({ owner: false, ownerPid, file, release: () => {} })
  if (held.has(file)) return notOwner(process.pid)
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host: os.hostname(), since: new Date().toISOString() }) + '\n', { flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = lockPid(file)
      if (pid !== null && pid !== process.pid && processRuns(pid)) return notOwner(pid)
      // A file without a pid yet may be a live process's lock being written: only an old one is a crashed start's.
      if (pid === null && Date.now() - mtimeMs(file) < 10_000) return notOwner(0)
      // Stale: take it over. Renamed aside first, so that when two processes take over at once
      // and one has already made a fresh lock, the other finds that out and puts it back.
      const aside = `${file}.stale-${process.pid}`
      try {
        fs.renameSync(file, aside)
      } catch {
        continue
      }
      const found = lockPid(aside)
      if (found !== null && found !== pid && processRuns(found)) {
        try {
          fs.linkSync(aside, file)
        } catch {
          // A third process made a lock meanwhile: it owns the workspace.
        }
        fs.rmSync(aside, { force: true })
        return notOwner(found)
      }
      fs.rmSync(aside, { force: true })
      continue
    }
    held.add(file)
    const release = (): void => {
      if (!held.delete(file)) return
      process.off('exit', release)
      if (lockPid(file) === process.pid) fs.rmSync(file, { force: true })
    }
    process.on('exit', release)
    return { owner: true, ownerPid: process.pid, file, release }
  }
  const pid = lockPid(file)
  return notOwner(pid ?? 0)
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return 0
  }
}

/** The pid a lock file names, or null when it cannot be read (missing, or cut short by a crash). */
function lockPid(file: string): number | null {
  try {
    const pid = (JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown }).pid
    return typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}
