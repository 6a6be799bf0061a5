// gptw serve: the web host (UI and API) on 127.0.0.1 until Ctrl+C; prints the URL with its token.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startWebHost } from '../server'
import { intFlag } from './args'
import { type CliEnv, openWorkbench } from './env'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { port: { type: 'string' } } as const

export async function serve(argv: string[], env: CliEnv): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const workbench = openWorkbench(env)
  const host = await startWebHost({ workbench, rendererDir: path.join(env.outDir, '../renderer'), port: intFlag(values.port, 'port', 0, 0, 65535) })
  console.log(`GPT Workbench is serving at ${host.url}`)
  console.log(`Workspace: ${workbench.workspace.root}  (Ctrl+C stops)`)
  const stop = async (): Promise<void> => {
    await host.close()
    await workbench.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
