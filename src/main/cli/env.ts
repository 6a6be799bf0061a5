// Where the built CLI finds the rest of the app: out/main holds cli.js and workers/, the package
// root two folders up holds resources/, bin/gptw.js and package.json. cli.ts passes its own
// folder in: only the entry bundle's __dirname is out/main (shared chunks sit in out/main/chunks).
import fs from 'node:fs'
import path from 'node:path'
import { Workbench } from '../services/workbench'

export interface CliEnv {
  /** The folder of the built cli.js (out/main). */
  outDir: string
}

export function resourcesDir(env: CliEnv): string {
  return path.join(env.outDir, '../../resources')
}

export function openWorkbench(env: CliEnv): Workbench {
  const version = (JSON.parse(fs.readFileSync(path.join(env.outDir, '../../package.json'), 'utf8')) as { version: string }).version
  return new Workbench({ workersDir: path.join(env.outDir, 'workers'), resourcesDir: resourcesDir(env), host: 'web', version })
}

/** Runs a command over the workspace's workbench and closes it after, also on errors. */
export async function withWorkbench<T>(env: CliEnv, run: (workbench: Workbench) => Promise<T>): Promise<T> {
  const workbench = openWorkbench(env)
  try {
    return await run(workbench)
  } finally {
    await workbench.close()
  }
}
