// gptw train: starts a training job through the same services as the app (so the run shows in
// Runs) and follows it: a progress line on a terminal, or one JSON object per step with --json
// (the same lines on both engines). --dry-run prints what would be launched and starts nothing.
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { ShardingChoice, type TrainConfig } from '../../shared/config/train'
import { deviceSpread, splitDeviceMetrics } from '../../shared/device-figures'
import type { TrainParams } from '../../shared/jobs'
import type { Preset } from '../../shared/presets'
import { buildLaunch, commandLine, resolveEngine, torchConfigFile, torchPackageDir } from '../../core/engine/pytorch/launch'
import { buildSlurm } from '../../core/engine/pytorch/slurm'
import { pytorchReport } from '../../core/engine/pytorch/probe'
import { shardingProblem } from '../../core/engine/pytorch/sharding'
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
      engine: { type: 'string' },
      init: { type: 'string' },
      launcher: { type: 'string' },
      hosts: { type: 'string' },
      sharding: { type: 'string' },
      'no-memory-check': { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      json: { type: 'boolean' }
    }
  })
  const presets = await workbench.call('presets.list', undefined)
  const params = buildParams(values, presets.ok ? presets.value : [])
  if (values['dry-run']) return dryRun(params, workbench, !!values.json)
  const reply = await workbench.call('jobs.start', { kind: 'train', params })
  if (!reply.ok) throw new Error(reply.error.message)
  const jobId = reply.value.id
  const run = workbench.runs.byJob(jobId)!
  const bar = createProgressBar()
  const total = run.config.steps
  if (!values.json) console.error(`Run ${run.id} (${run.name}): ${run.dir}`)
  workbench.supervisor.on('metric', (m) => {
    if (m.jobId !== jobId) return
    // Per-device metrics (rssMb@1, ...) as the step line's devices list, both engines alike; the progress line gets their spread.
    const own = splitDeviceMetrics(m.values)
    const spread = deviceSpread(own.devices)
    if (values.json) console.log(JSON.stringify({ step: m.step, ...own.values, ...(own.devices.length ? { devices: own.devices } : {}) }))
    else bar.update(m.step, total, progressLine({ step: m.step, ...own.values } as StepMetrics, total, spread))
  })
  workbench.supervisor.on('log', (l) => {
    if (l.jobId === jobId && !values.json && l.level !== 'info') console.error(l.text)
    else if (l.jobId === jobId && !values.json && /^(Backend|Resuming|Starting on the PyTorch|Pausing|Paused at|Data parallel|Dataset|MFU)/.test(l.text)) console.error(l.text)
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

function buildParams(values: Record<string, string | boolean | undefined>, presets: Preset[]): TrainParams {
  const str = (k: string): string | undefined => values[k] as string | undefined
  if (str('resume')) {
    if (str('engine') || str('init') || str('devices') || str('launcher') || str('hosts') || str('sharding'))
      throw new UsageError('--resume continues a run with its own config: --engine, --devices, --launcher, --hosts, --sharding and --init go with a new run.')
    if (values['no-memory-check']) throw new UsageError('--resume continues a run with its own config: its memoryCheck key decides; --no-memory-check goes with a new run.')
    return { resume: { runId: intFlag(str('resume'), 'resume', 0, 1), ...(str('step') ? { step: intFlag(str('step'), 'step', 0, 0) } : {}) } }
  }
  const engine = str('engine')
  if (engine !== undefined && !['embedded', 'pytorch', 'auto'].includes(engine)) throw new UsageError(`--engine is embedded, pytorch or auto, not "${engine}".`)
  const sharding = str('sharding')
  if (sharding !== undefined && !ShardingChoice.options.includes(sharding as ShardingChoice)) throw new UsageError(`--sharding is none, optimizer or full, not "${sharding}".`)
  const launcher = launcherFlag(str('launcher'), str('hosts'), str('config'))
  const overrides = {
    ...(launcher ? { launcher } : {}),
    ...(str('devices')
      ? {
          devices: str('devices')!
            .split(',')
            .map((d) => d.trim())
        }
      : {}),
    ...(str('backend') ? { backend: str('backend') } : {}),
    ...(engine ? { engine } : {}),
    ...(sharding ? { sharding } : {}),
    ...(str('init') ? { init: path.resolve(str('init')!) } : {}),
    ...(str('steps') ? { steps: intFlag(str('steps'), 'steps', 0, 1) } : {}),
    ...(values['no-memory-check'] ? { memoryCheck: false } : {})
  }
  if (str('config')) {
    const file = path.resolve(str('config')!)
    const raw = readConfigFile(file) as Record<string, unknown>
    return { config: parseTrainConfig({ ...raw, ...overrides }, file), ...(str('dataset') ? { dataset: str('dataset') } : {}) }
  }
  const preset = str('preset') ?? 'tiny-cpu'
  if (overrides.devices || overrides.backend || overrides.engine || overrides.sharding || overrides.init || overrides.launcher || overrides.memoryCheck === false) {
    // The preset's config with these keys changed, as a config of its own (named after the preset).
    const found = presets.find((p) => p.name === preset)
    if (!found) throw new UsageError(`No preset named "${preset}" (presets: ${presets.map((p) => p.name).join(', ')}).`)
    return { config: parseTrainConfig({ ...found.config, name: found.title, ...overrides }, `preset ${preset}`), ...(str('dataset') ? { dataset: str('dataset') } : {}) }
  }
  return { preset, ...(overrides.steps ? { steps: overrides.steps } : {}), ...(str('dataset') ? { dataset: str('dataset') } : {}) }
}

/** --launcher local|ssh|slurm and --hosts FILE (a JSON/YAML list of {host, gpus, workDir}, or the whole ssh launcher object): the config's launcher key. */
function launcherFlag(kind: string | undefined, hostsFile: string | undefined, configFile: string | undefined): Record<string, unknown> | undefined {
  if (kind === undefined && hostsFile === undefined) return undefined
  if (kind !== undefined && !['local', 'ssh', 'slurm'].includes(kind)) throw new UsageError(`--launcher is local, ssh or slurm, not "${kind}".`)
  if (hostsFile !== undefined && kind !== undefined && kind !== 'ssh') throw new UsageError('--hosts goes with --launcher ssh.')
  if (kind === 'local') return { kind: 'local' }
  if (kind === 'slurm') {
    const fromConfig = configFile ? (readConfigFile(path.resolve(configFile)) as { launcher?: { kind?: string } }).launcher : undefined
    if (fromConfig?.kind !== 'slurm')
      throw new UsageError('--launcher slurm needs the Slurm settings: put launcher: { kind: slurm, nodes, gpusPerNode, time, partition?, account? } in the --config file.')
    return fromConfig
  }
  if (hostsFile === undefined) throw new UsageError('--launcher ssh needs --hosts FILE: a JSON or YAML list of { host, gpus, workDir }.')
  const raw = readConfigFile(path.resolve(hostsFile))
  return Array.isArray(raw) ? { kind: 'ssh', hosts: raw } : { kind: 'ssh', ...(raw as Record<string, unknown>) }
}

/** --dry-run: the engine the config resolves to and, on PyTorch, the torchrun command the job would run (RUN_DIR: the run's folder, made at launch). */
async function dryRun(params: TrainParams, workbench: Workbench, json: boolean): Promise<number> {
  let config: TrainConfig
  let runDir = 'RUN_DIR'
  let resumeDir: string | undefined
  let dataset: string
  if (params.resume) {
    const run = workbench.runs.get(params.resume.runId)
    if (!run) throw new Error(`Run ${params.resume.runId} does not exist.`)
    const kept = workbench.runs.checkpoints(run.id).filter((c) => fs.existsSync(c.path))
    const from = params.resume.step === undefined ? kept.at(-1) : kept.find((c) => c.step === params.resume!.step)
    if (!from) throw new Error(`Run ${run.id} has no kept checkpoint${params.resume.step === undefined ? '' : ` at step ${params.resume.step}`}.`)
    config = run.config
    runDir = run.dir
    resumeDir = from.path
    dataset = run.datasetDir ?? ''
  } else {
    if (params.config) config = params.config
    else {
      const presets = await workbench.call('presets.list', undefined)
      const found = presets.ok ? presets.value.find((p) => p.name === params.preset) : undefined
      if (!found) throw new Error(`No preset named "${params.preset}".`)
      config = parseTrainConfig({ ...found.config, ...(params.steps ? { steps: params.steps } : {}) }, `preset ${params.preset}`)
    }
    const given = params.dataset ?? config.dataset
    dataset = given ? path.resolve(given) : path.join(workbench.workspace.datasetsDir, 'sample-moby-dick', 'tokens')
  }
  const engine = await resolveEngine(config)
  if (engine === 'embedded') {
    const text = `Engine embedded (config engine ${config.engine}): no external command; the app's train worker trains on backend ${config.backend}, devices ${config.devices.join(', ')} (${config.devices.length} process${config.devices.length === 1 ? '' : 'es'}), dataset ${dataset}${resumeDir ? `, resuming from ${resumeDir}` : ''}.`
    console.log(json ? JSON.stringify({ engine, command: null, devices: config.devices, backend: config.backend, dataset, resumeDir: resumeDir ?? null }) : text)
    return 0
  }
  const report = await pytorchReport(config.python)
  if (config.launcher.kind === 'slurm') {
    const script = buildSlurm({ config, python: config.python ?? report.python, configFile: torchConfigFile(runDir), datasetDir: dataset, runDir, packageDir: torchPackageDir(), resumeDir })
    if (json) console.log(JSON.stringify({ engine, launcher: 'slurm', script, torch: report.torch, problem: report.problem }))
    else process.stdout.write(script)
    return 0
  }
  const launch = buildLaunch({ config, python: report.python, configFile: torchConfigFile(runDir), datasetDir: dataset, runDir, resumeDir, initDir: config.init })
  const command = commandLine(launch)
  if (json) console.log(JSON.stringify({ engine, launcher: config.launcher.kind, command, python: launch.python, args: launch.args, env: launch.env, torch: report.torch, problem: report.problem }))
  else {
    // The SSH launcher is a bash script (one ssh session per host): printed as a script rather than one quoted line.
    console.log(config.launcher.kind === 'ssh' ? `#!/bin/bash\n${launch.args[1]}` : command)
    if (runDir === 'RUN_DIR') console.error(`RUN_DIR: the run's folder under ${workbench.workspace.runsDir}, made at launch (the config is written to RUN_DIR/pytorch-config.json).`)
  }
  if (!report.usable) {
    console.error(report.problem)
    return 1
  }
  const sharding = config.launcher.kind === 'local' ? shardingProblem(config.sharding, report) : null
  if (sharding) {
    console.error(sharding)
    return 1
  }
  return 0
}
