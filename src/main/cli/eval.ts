// gptw eval: evaluates checkpoints on harness tasks through the same services as the app (an eval
// job in the workspace, its answers cached in its database), following it with a progress line,
// then prints the results table and writes the results as JSON.
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { MatrixColumn } from '../../shared/eval-export'
import { toJson, toMarkdown } from '../../shared/eval-export'
import { describeZodError } from '../../shared/api'
import { EvalConfig, type EvalWorkerParams } from '../../shared/config/eval'
import type { Workbench } from '../services/workbench'
import { UsageError } from './args'
import { readEvalConfig } from './eval-config'
import { createProgressBar } from './progress-bar'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { config: { type: 'string' }, engine: { type: 'string' }, devices: { type: 'string' }, dtype: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } } as const

export async function evalCommand(argv: string[], workbench: Workbench): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (!values.config) throw new UsageError('eval needs --config FILE (JSON or YAML with checkpoints and tasks).')
  const file = path.resolve(values.config)
  const read = readEvalConfig(file)
  const { output, ignored } = read
  const config = withEngineFlags(read.config, values.engine, values.devices, values.dtype)
  if (ignored.length) console.error(`Ignored ${ignored.join(', ')}: each checkpoint's config.json describes its model.`)

  const reply = await workbench.call('jobs.start', { kind: 'eval', params: config })
  if (!reply.ok) throw new Error(reply.error.message)
  const jobId = reply.value.id
  const params = reply.value.params as EvalWorkerParams
  const bar = createProgressBar()
  const onJob = (job: { id: number; progress: number; progressText: string }): void => {
    if (job.id === jobId && !values.json) bar.update(job.progress * 1000, 1000, job.progressText)
  }
  const onLog = (l: { jobId: number; level: string; text: string }): void => {
    if (l.jobId === jobId && !values.json && l.level !== 'info') console.error(l.text)
  }
  workbench.supervisor.on('job', onJob)
  workbench.supervisor.on('log', onLog)
  const onSignal = (): void => {
    console.error('\nStopping: answers computed so far are cached; run the same command again to continue.')
    workbench.supervisor.cancel(jobId)
  }
  process.once('SIGINT', onSignal)
  const ended = await workbench.supervisor.waitForExit(jobId)
  process.off('SIGINT', onSignal)
  workbench.supervisor.off('job', onJob)
  workbench.supervisor.off('log', onLog)
  bar.done()

  const columns: MatrixColumn[] = params.checkpoints.map((c) => ({ checkpoint: c.dir, label: c.label }))
  const { rows, failures } = workbench.evals.matrix({ jobId })
  const outFile = path.resolve(values.out ?? output ?? path.join(workbench.workspace.root, 'evals', `job-${jobId}.json`))
  fs.mkdirSync(path.dirname(outFile), { recursive: true })
  const json = JSON.parse(toJson(rows, columns, failures)) as Record<string, unknown>
  const document = { jobId, state: ended.state, error: ended.error, config: params.config, ...json, job: ended.result }
  fs.writeFileSync(outFile, JSON.stringify(document, null, 2) + '\n')
  if (values.json) console.log(JSON.stringify(document))
  else {
    console.log(toMarkdown(rows, columns, failures))
    console.error(`${ended.state === 'done' ? 'Done' : `Eval job ${jobId} ${ended.state}${ended.error ? `: ${ended.error}` : ''}`}. Results written to ${outFile}`)
  }
  return ended.state === 'done' ? 0 : 1
}

/** --engine, --devices and --dtype over the file's, checked by the config's own schema. */
function withEngineFlags(config: EvalConfig, engine: string | undefined, devices: string | undefined, dtype: string | undefined): EvalConfig {
  if (engine === undefined && devices === undefined && dtype === undefined) return config
  const parsed = EvalConfig.safeParse({
    ...config,
    ...(engine === undefined ? {} : { engine }),
    ...(devices === undefined ? {} : { devices: devices.split(',').map((d) => d.trim()) }),
    ...(dtype === undefined ? {} : { dtype })
  })
  if (!parsed.success) throw new UsageError(`--engine / --devices / --dtype: ${describeZodError(parsed.error)}`)
  return parsed.data
}
