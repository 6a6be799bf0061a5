// gptw train: starts a training job through the same services as the app (so the run shows in
// Runs) and follows it: a progress line on a terminal, or one JSON object per step with --json.
import path from 'node:path'
import { parseArgs } from 'node:util'
import type { TrainParams } from '../../shared/jobs'
import { type StepMetrics, progressLine } from '../../core/engine/trainer'
import type { Workbench } from '../services/workbench'
import { parseTrainConfig } from '../services/training'
import { UsageError, intFlag } from './args'
import { readConfigFile } from './config-file'
import { createProgressBar } from './progress-bar'

export async function train(argv: string[], workbench: Workbench): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      preset: { type: 'string' },
      dataset: { type: 'string' },
      devices: { type: 'string' },
      steps: { type: 'string' },
      backend: { type: 'string' },
      resume: { type: 'string' },
      step: { type: 'string' },
      json: { type: 'boolean' }
    }
  })
  const params = buildParams(values)
  const reply = await workbench.call('jobs.start', { kind: 'train', params })
  if (!reply.ok) throw new Error(reply.error.message)
  const jobId = reply.value.id
  const run = workbench.runs.byJob(jobId)!
  const bar = createProgressBar()
  const total = run.config.steps
  if (!values.json) console.error(`Run ${run.id} (${run.name}): ${run.dir}`)
  workbench.supervisor.on('metric', (m) => {
    if (m.jobId !== jobId) return
    const line = { step: m.step, ...m.values }
    if (values.json) console.log(JSON.stringify(line))
    else bar.update(m.step, total, progressLine({ step: m.step, ...m.values } as StepMetrics, total))
  })
  workbench.supervisor.on('log', (l) => {
    if (l.jobId === jobId && !values.json && l.level !== 'info') console.error(l.text)
    else if (l.jobId === jobId && !values.json && /^(Backend|Resuming|Data parallel|Dataset|MFU)/.test(l.text)) console.error(l.text)
  })
  const onSignal = (): void => {
    console.error('\nStopping: the run keeps its checkpoints; resume with `gptw train --resume ' + run.id + '`.')
    workbench.supervisor.cancel(jobId)
  }
  process.once('SIGINT', onSignal)
  const ended = await workbench.supervisor.waitForExit(jobId)
  process.off('SIGINT', onSignal)
  bar.done()
  if (values.json) console.log(JSON.stringify({ done: ended.state, runId: run.id, error: ended.error, result: ended.result }))
  else console.error(ended.state === 'done' ? `Done. Checkpoints in ${path.join(run.dir, 'checkpoints')}` : `Run ${run.id} ${ended.state}${ended.error ? `: ${ended.error}` : ''}`)
  return ended.state === 'done' ? 0 : 1
}

function buildParams(values: Record<string, string | boolean | undefined>): TrainParams {
  const str = (k: string): string | undefined => values[k] as string | undefined
  if (str('resume')) {
    return { resume: { runId: intFlag(str('resume'), 'resume', 0, 1), ...(str('step') ? { step: intFlag(str('step'), 'step', 0, 0) } : {}) } }
  }
  const overrides = {
    ...(str('devices')
      ? {
          devices: str('devices')!
            .split(',')
            .map((d) => d.trim())
        }
      : {}),
    ...(str('backend') ? { backend: str('backend') } : {}),
    ...(str('steps') ? { steps: intFlag(str('steps'), 'steps', 0, 1) } : {})
  }
  if (str('config')) {
    const file = path.resolve(str('config')!)
    const raw = readConfigFile(file) as Record<string, unknown>
    return { config: parseTrainConfig({ ...raw, ...overrides }, file), ...(str('dataset') ? { dataset: str('dataset') } : {}) }
  }
  const preset = str('preset') ?? 'tiny-cpu'
  if (overrides.devices || overrides.backend) {
    throw new UsageError('--devices and --backend go with --config FILE (write them in the config); with a preset, copy it to a file first.')
  }
  return { preset, ...(overrides.steps ? { steps: overrides.steps } : {}), ...(str('dataset') ? { dataset: str('dataset') } : {}) }
}
