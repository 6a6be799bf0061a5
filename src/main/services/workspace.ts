// The workspace folder: the database, datasets, runs and downloaded eval data live here.
// Default ~/.gpt-workbench; GPTW_HOME overrides it (tests give each case its own).
// One process owns a workspace at a time (workbench.lock holds its pid): only the owner runs
// jobs and repairs the database at start-up; other processes (a `gptw jobs` beside `gptw serve`)
// open it to read.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { processRuns } from '../../core/durable-file'

/** Linux's clock ticks per second for /proc/<pid>/stat start times (USER_HZ, 100 on every mainstream build). */
const CLOCK_TICKS = 100
/** How much later than the recorded time a process may seem to start: /proc's tick rounding and the fork-to-record delay. */
const START_SLACK_MS = 2000

/** When `pid` started (ms since the epoch) from /proc; null where there is no /proc (macOS, Windows) or no such process. */
export function processStartedAt(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name, which is in parentheses and may itself hold spaces or ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(fields[19])
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1])
    return Number.isFinite(ticks) && Number.isFinite(btime) ? btime * 1000 + (ticks * 1000) / CLOCK_TICKS : null
  } catch {
    return null
  }
}

/**
 * Whether `pid` still runs and is the process that was there at `since` (ms since the epoch): a
 * process that started after it has only reused the number (after a reboot, pids come round again).
 */
export function processStillRuns(pid: number, since: number | null): boolean {
  if (!processRuns(pid)) return false
  if (since === null || pid === process.pid) return true
  const started = processStartedAt(pid)
  return started === null || started <= since + START_SLACK_MS
}

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
 * with our pid; a lock whose pid no longer runs (a host that was killed), or now names a process
 * that started after the lock was taken (the pid reused), is taken over.
 */
export function lockWorkspace(ws: Workspace): WorkspaceLock {
  const file = ws.lockFile
  const notOwner = (ownerPid: number): WorkspaceLock => ({ owner: false, ownerPid, file, release: () => {} })
  if (held.has(file)) return notOwner(process.pid)
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host: os.hostname(), since: Date.now() }) + '\n', { flag: 'wx' })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const { pid, since } = readLock(file)
      if (pid !== null && pid !== process.pid && processStillRuns(pid, since)) return notOwner(pid)
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
      const found = readLock(aside)
      if (found.pid !== null && found.pid !== pid && processStillRuns(found.pid, found.since)) {
        try {
          fs.linkSync(aside, file)
        } catch {
          // A third process made a lock meanwhile: it owns the workspace.
        }
        fs.rmSync(aside, { force: true })
        return notOwner(found.pid)
      }
      fs.rmSync(aside, { force: true })
      continue
    }
    held.add(file)
    const release = (): void => {
      if (!held.delete(file)) return
      process.off('exit', release)
      if (readLock(file).pid === process.pid) fs.rmSync(file, { force: true })
    }
    process.on('exit', release)
    return { owner: true, ownerPid: process.pid, file, release }
  }
  return notOwner(readLock(file).pid ?? 0)
}

function mtimeMs(file: string): number {
  try {
    return fs.statSync(file).mtimeMs
  } catch {
    return 0
  }
}

/** The pid a lock file names and when it took the lock; pid null when the file cannot be read (missing, or cut short by a crash). */
function readLock(file: string): { pid: number | null; since: number | null } {
  try {
    const { pid, since } = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: unknown; since?: unknown }
    return { pid: typeof pid === 'number' && Number.isInteger(pid) && pid > 0 ? pid : null, since: typeof since === 'number' ? since : null }
  } catch {
    return { pid: null, since: null }
  }
}
