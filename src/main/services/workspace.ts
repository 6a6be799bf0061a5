// The workspace folder: the database, datasets, runs and downloaded eval data live here.
// Default ~/.gpt-workbench; GPTW_HOME overrides it (tests give each case its own).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface Workspace {
  root: string
  dbFile: string
  datasetsDir: string
  runsDir: string
  evalDataDir: string
}

export function resolveWorkspace(root = process.env.GPTW_HOME || path.join(os.homedir(), '.gpt-workbench')): Workspace {
  const abs = path.resolve(root)
  const ws: Workspace = {
    root: abs,
    dbFile: path.join(abs, 'workbench.db'),
    datasetsDir: path.join(abs, 'datasets'),
    runsDir: path.join(abs, 'runs'),
    evalDataDir: path.join(abs, 'eval-data')
  }
  try {
    for (const dir of [ws.root, ws.datasetsDir, ws.runsDir, ws.evalDataDir]) fs.mkdirSync(dir, { recursive: true })
  } catch (err) {
    throw new Error(`Cannot create the workspace at ${abs} (${(err as Error).message}). Set GPTW_HOME to a writable folder.`, { cause: err })
  }
  return ws
}
