// `gptw prepare --config FILE [--out DIR] [--json]`: the Webtext pipeline headless, with a
// progress line and a table of what each stage kept and dropped. The config is JSON or YAML;
// relative paths in it are read from the config file's folder. Running it again with the same
// --out resumes (stages already done are reused, stored pages are not fetched again).
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import YAML from 'yaml'
import { ApiError, describeZodError } from '../../shared/api'
import { type DatasetManifest, PREPARE_STAGES, PrepareConfig, type PrepareResult, STAGE_LABELS } from '../../shared/config/prepare'
import { inlineContext } from '../../core/job-context'
import { runPipeline } from '../../core/data/pipeline/runner'
import { resolvePrepareParams } from '../services/prepared-datasets'
import { resolveWorkspace } from '../services/workspace'
import { UsageError } from './args'
import { createProgressBar } from './progress-bar'

/** Reads and checks a prepare config file; errors name the file and the field. */
export function readPrepareConfig(file: string): PrepareConfig {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    throw new UsageError(`Config file ${file} does not exist or cannot be read.`)
  }
  let raw: unknown
  try {
    raw = YAML.parse(text)
  } catch (err) {
    throw new UsageError(`Config file ${file} is not valid JSON or YAML: ${(err as Error).message.split('\n')[0]}`)
  }
  const parsed = PrepareConfig.safeParse(raw ?? {})
  if (!parsed.success) throw new UsageError(`Config file ${file}: ${describeZodError(parsed.error)}`)
  return parsed.data
}

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { config: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } } as const

export async function prepare(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (!values.config) throw new UsageError('prepare needs --config FILE (JSON or YAML; see the README for the keys).')
  const file = path.resolve(values.config)
  const config = readPrepareConfig(file)
  let params
  try {
    params = resolvePrepareParams({ config, datasetDir: values.out }, resolveWorkspace().datasetsDir, path.dirname(file))
  } catch (err) {
    throw err instanceof ApiError ? new UsageError(`Config file ${file}: ${err.message}`) : err
  }
  console.error(`Dataset folder: ${params.datasetDir}  (run again with --out ${params.datasetDir} to resume)`)
  const bar = createProgressBar()
  const result = await runPipeline(
    params.config,
    params.datasetDir,
    inlineContext(bar.update, (text) => console.error(text))
  )
  bar.done()
  const manifest = JSON.parse(fs.readFileSync(path.join(params.datasetDir, 'manifest.json'), 'utf8')) as DatasetManifest
  if (values.json) return void console.log(JSON.stringify({ ...result, datasetDir: params.datasetDir, stages: manifest.stages }))
  console.log(stageTable(manifest))
  console.log(summaryLine(result))
}

export function stageTable(manifest: DatasetManifest): string {
  const rows = PREPARE_STAGES.map((s) => {
    const st = manifest.stages[s]
    const dropped = Object.entries(st.dropped)
      .map(([reason, n]) => `${reason} ${n}`)
      .join(', ')
    return [STAGE_LABELS[s], String(st.input), String(st.kept), dropped || '-']
  })
  const header = ['stage', 'in', 'kept', 'dropped']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
  return [header, ...rows].map((r) => r.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]))).join('  ')).join('\n')
}

function summaryLine(r: PrepareResult): string {
  const tokens = Object.entries(r.tokens)
    .map(([s, n]) => `${s} ${n.toLocaleString('en-US')} tokens`)
    .join(', ')
  return `Wrote ${r.documents} documents to ${r.trainData}${r.tokensDir ? `; ${tokens} in ${r.tokensDir}` : ''}`
}
