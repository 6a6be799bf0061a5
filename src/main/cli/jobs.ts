// gptw jobs: the workspace's jobs, newest first, as a table or as JSON.
import { parseArgs } from 'node:util'
import { intFlag } from './args'
import { type CliEnv, openWorkbench } from './env'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { json: { type: 'boolean' }, limit: { type: 'string' } } as const

export async function jobs(argv: string[], env: CliEnv): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const workbench = openWorkbench(env)
  const list = workbench.jobs.list(intFlag(values.limit, 'limit', 50, 1, 10000))
  await workbench.close()
  if (values.json) return void console.log(JSON.stringify(list, null, 2))
  if (!list.length) return void console.log('No jobs yet.')
  for (const job of list) {
    const pct = `${Math.round(job.progress * 100)}%`.padStart(4)
    const when = new Date(job.createdAt).toISOString().replace('T', ' ').slice(0, 19)
    console.log(`${String(job.id).padStart(5)}  ${job.kind.padEnd(10)} ${job.state.padEnd(9)} ${pct}  ${when}  ${job.error ?? job.progressText}`)
  }
}
