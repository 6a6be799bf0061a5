// gptw serve: the web host (UI and API) on 127.0.0.1 until Ctrl+C; prints the URL with its token.
// The host reads and writes inside the workspace only; --allow approves more folders (issue 13).
// With a fixed --port the access token is kept in the workspace (web-token, owner-only), so a
// restarted host has the same address and token and an open tab reconnects by itself.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startWebHost } from '../server'
import { UsageError, intFlag } from './args'
import { type CliEnv, openWorkbench } from './env'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { port: { type: 'string' }, allow: { type: 'string', multiple: true } } as const

export async function serve(argv: string[], env: CliEnv): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const allowed = (values.allow ?? []).map((dir) => approvedFolder(dir))
  const workbench = openWorkbench(env)
  for (const dir of allowed) workbench.paths.allow(dir)
  const port = intFlag(values.port, 'port', 0, 0, 65535)
  const token = port ? keptToken(path.join(workbench.workspace.root, 'web-token')) : undefined
  const host = await startWebHost({ workbench, rendererDir: path.join(env.outDir, '../renderer'), port, token })
  console.log(`GPT Workbench is serving at ${host.url}`)
  console.log(`Workspace: ${workbench.workspace.root}  (Ctrl+C stops)`)
  if (allowed.length) console.log(`Also approved for reading and writing: ${allowed.join(', ')}`)
  const stop = async (): Promise<void> => {
    await host.close()
    await workbench.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** The access token a fixed-port host keeps across restarts: read from its file, or made and written there (mode 600). */
function keptToken(file: string): string {
  try {
    const kept = fs.readFileSync(file, 'utf8').trim()
    if (/^[A-Za-z0-9_-]{32,}$/.test(kept)) return kept
  } catch {
    // none yet
  }
  const token = crypto.randomBytes(24).toString('base64url')
  fs.writeFileSync(file, token + '\n', { mode: 0o600 })
  return token
}

/** An --allow folder as an absolute path; one that is missing or not a folder is refused before the host starts. */
function approvedFolder(dir: string): string {
  const abs = path.resolve(dir)
  if (!fs.existsSync(abs)) throw new UsageError(`--allow ${dir}: ${abs} does not exist. Name a folder the host may read and write.`)
  if (!fs.statSync(abs).isDirectory()) throw new UsageError(`--allow ${dir}: ${abs} is a file, not a folder. Name the folder that holds it.`)
  return abs
}
