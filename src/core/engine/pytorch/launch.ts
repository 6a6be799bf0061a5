// The train job on the PyTorch engine: builds the local torchrun command for the config's devices
// (gpu:i -> CUDA_VISIBLE_DEVICES, cpu:i -> one gloo process each), runs it in its own process
// group, and relays rank 0's JSON lines as the embedded engine's messages (backend, metric,
// progress, checkpoint); everything else goes to the job log. Pause: SIGTERM to the launcher, which
// passes it to every rank once; they save a checkpoint, print `paused` and exit, the job waits at
// its pause point and relaunches from that checkpoint on resume. Cancel: SIGTERM to the whole
// group (a second signal for the ranks: they stop at once), SIGKILL after a grace period. A rank
// that dies fails the job naming the rank; no process of the group outlives the job. A step line's
// `devices` list (every rank's memory and step time) becomes per-device metrics (step-record.ts).
import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { TrainConfig } from '../../../shared/config/train'
import type { PytorchReport } from '../../../shared/devices'
import type { TrainWorkerParams } from '../../../shared/jobs'
import { type TorchLaunch, commandLine, sshLaunch, torchrunLaunch } from '../../../shared/torchrun'
import { JobCancelled, type JobContext } from '../../job-context'
import { writeInitialWeights } from './initial-weights'
import { pytorchReport } from './probe'
import { shardingProblem } from './sharding'
import { slurmTrainJob } from './slurm'
import { describeFailure, parseRankFailures } from './rank-failures'
import { requireSshHosts } from './ssh'
import { relayStep } from './step-record'

export interface LaunchInput {
  config: TrainConfig
  python: string
  configFile: string
  datasetDir: string
  runDir: string
  resumeDir?: string
  initDir?: string
  packageDir?: string
}

export { commandLine, type TorchLaunch }

/** Lets the host tell the job that a pause was asked for (the worker wires IPC `pause` messages to it); returns an unsubscribe. */
export type PauseRequests = (listener: () => void) => () => void

/** How long a cancelled run's processes get after SIGTERM before SIGKILL (under the supervisor's own 5 s). */
const CANCEL_GRACE_MS = 3000
/** How long a stop that saves a checkpoint waits for the ranks before SIGKILL (under the supervisor's own grace for such stops). */
const STOP_GRACE_MS = 100_000
/** Inside the run folder: a fresh local run's first weights, removed when the job ends. */
const INITIAL_WEIGHTS_DIR = 'initial-weights'
const STDERR_KEPT = 200

/** The folder holding the gptw_torch package: GPTW_TORCH_PACKAGE_DIR, else the first `python/` above this file with it. */
export function torchPackageDir(start = __dirname): string {
  if (process.env.GPTW_TORCH_PACKAGE_DIR) return process.env.GPTW_TORCH_PACKAGE_DIR
  for (let dir = start; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python')
    if (fs.existsSync(path.join(candidate, 'gptw_torch', '__init__.py'))) return candidate
    if (path.dirname(dir) === dir) throw new Error(`The PyTorch engine's package (python/gptw_torch) was not found above ${start}; set GPTW_TORCH_PACKAGE_DIR to the folder that holds it.`)
  }
}

/** The launcher for a run (shared/torchrun.ts): local torchrun, or one ssh session per host; the app's python/ folder on PYTHONPATH. */
export function buildLaunch(input: LaunchInput): TorchLaunch {
  const packageDir = input.packageDir ?? torchPackageDir()
  const launcher = input.config.launcher
  if (launcher.kind === 'ssh') return sshLaunch({ ...input, packageDir, hosts: launcher.hosts, rdzvPort: launcher.rdzvPort, sshOptions: launcher.sshOptions })
  if (launcher.kind === 'slurm') throw new Error('A Slurm run is a batch script, not a command: see slurm.ts (buildSlurm).')
  return torchrunLaunch({ ...input, devices: input.config.devices, packageDir })
}

/** Which engine trains this config: `auto` is PyTorch when a GPU is selected and the interpreter has torch with CUDA. */
export async function resolveEngine(config: TrainConfig, probe: (python?: string) => Promise<PytorchReport> = pytorchReport): Promise<'embedded' | 'pytorch'> {
  if (config.engine !== 'auto') return config.engine
  if (!config.devices.some((d) => d.startsWith('gpu:'))) return 'embedded'
  const report = await probe(config.python)
  return report.usable && report.cudaAvailable ? 'pytorch' : 'embedded'
}

/** Where a run keeps the TrainConfig the PyTorch engine reads. */
export function torchConfigFile(runDir: string): string {
  return path.join(runDir, 'pytorch-config.json')
}

type Outcome = { kind: 'done'; steps: number; tokens: number; seconds: number } | { kind: 'paused'; step: number; dir: string }

/** Runs the train job on the PyTorch engine; pauses relaunch from the pause's checkpoint when the job is resumed. */
export async function pytorchTrainJob(params: TrainWorkerParams, ctx: JobContext, pauses: PauseRequests): Promise<unknown> {
  const { config } = params
  const report = await pytorchReport(config.python)
  if (!report.usable) throw new Error(report.problem ?? `The Python interpreter ${report.python} cannot run the PyTorch engine.`)
  const sharding = config.launcher.kind === 'local' ? shardingProblem(config.sharding, report) : null
  if (sharding) throw new Error(sharding)
  const configFile = torchConfigFile(params.runDir)
  fs.mkdirSync(params.runDir, { recursive: true })
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n')
  if (config.launcher.kind === 'slurm') return slurmTrainJob(params, ctx, { python: config.python ?? report.python, configFile, packageDir: torchPackageDir() }, pauses)
  if (config.launcher.kind === 'ssh') {
    const l = config.launcher
    await requireSshHosts({ hosts: l.hosts, sshOptions: l.sshOptions, python: config.python ?? report.python, packageDir: torchPackageDir(), datasetDir: params.datasetDir }, (t) => ctx.log(t))
  }
  let resumeDir = params.resumeDir
  const initDir = config.init ?? (resumeDir || config.launcher.kind !== 'local' ? undefined : await drawInitialWeights(config, params.runDir, ctx))
  try {
    for (;;) {
      const launch = buildLaunch({ config, python: report.python, configFile, datasetDir: params.datasetDir, runDir: params.runDir, resumeDir, initDir })
      ctx.log(`${resumeDir ? `Resuming from ${resumeDir}` : 'Starting'} on the PyTorch engine: ${commandLine(launch)}`)
      const outcome = await runLaunch(launch, config, ctx, pauses)
      if (outcome.kind === 'done') return { runId: params.runId, steps: outcome.steps, tokens: outcome.tokens, seconds: outcome.seconds, backend: 'pytorch' }
      ctx.log(`Paused at step ${outcome.step} with a checkpoint (${outcome.dir}); no process of the run is left. Resume relaunches from it.`)
      await ctx.pausePoint() // waits while paused; throws JobCancelled on cancel
      resumeDir = outcome.dir
    }
  } finally {
    if (initDir && initDir !== config.init) fs.rmSync(initDir, { recursive: true, force: true })
  }
}

/**
 * A fresh local run starts from weights drawn here (initial-weights.ts: seconds, where Python's
 * exact replica takes minutes at GPT-2 sizes); the folder goes when the job ends. SSH and Slurm
 * hosts may not see this machine's run folder, so their ranks draw the weights themselves.
 */
async function drawInitialWeights(config: TrainConfig, runDir: string, ctx: JobContext): Promise<string> {
  const started = Date.now()
  const dir = await writeInitialWeights(config, path.join(runDir, INITIAL_WEIGHTS_DIR))
  ctx.log(`Drew the initial weights as the embedded engine does (seed ${config.seed}) in ${((Date.now() - started) / 1000).toFixed(1)}s: ${dir}`)
  return dir
}

/** One torchrun launch, followed to its end: done, paused at a checkpoint, cancelled (throws JobCancelled) or failed (throws naming the rank). */
function runLaunch(launch: TorchLaunch, config: TrainConfig, ctx: JobContext, pauses: PauseRequests): Promise<Outcome> {
  return new Promise<Outcome>((resolve, reject) => {
    // A local torchrun runs under gptw_torch.with_parent: if this worker is killed, its ranks get the pause's SIGTERM, so none trains on unread.
    const guarded = launch.args[0] === '-m' && launch.args[1] === 'torch.distributed.run'
    const args = guarded ? ['-m', 'gptw_torch.with_parent', ...launch.args] : launch.args
    const child = spawn(launch.python, args, { cwd: launch.cwd, env: { ...process.env, ...launch.env, GPTW_LAUNCHER_PID: String(process.pid) }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    const group = child.pid
    const killGroup = (signal: NodeJS.Signals): void => {
      if (group === undefined) return
      try {
        process.kill(-group, signal)
      } catch {
        // ESRCH: the group is gone already
      }
    }
    // Should this process exit first (the supervisor's kill, a host shutdown), the ranks go with it.
    const onExit = (): void => killGroup('SIGKILL')
    process.on('exit', onExit)

    let started = false
    let pauseWanted = false
    let pauseSent = false
    let cancelled = false
    let killTimer: NodeJS.Timeout | undefined
    let done: Outcome | null = null
    let paused: Outcome | null = null
    let lastCheckpoint: number | null = null
    const stderrTail: string[] = []

    // The ranks install their SIGTERM handler before rank 0 prints `start`: a pause asked for earlier waits for it.
    const sendPause = (): void => {
      if (pauseSent || !started || cancelled) return
      pauseSent = true
      ctx.log('Pausing: the ranks finish this step and save a checkpoint.')
      // Under with_parent, SIGUSR1 has it send each rank one SIGTERM and torchrun end as after a finished run; else torchrun passes SIGTERM on.
      if (group !== undefined) process.kill(group, guarded ? 'SIGUSR1' : 'SIGTERM')
    }
    const unsubscribe = pauses(() => {
      pauseWanted = true
      sendPause()
    })
    let stopping = false
    const onCancel = (): void => {
      if (cancelled) return
      cancelled = true
      if (ctx.stopWithCheckpoint && guarded && started && !pauseSent && group !== undefined) {
        // A stop that keeps the steps: the pause's checkpoint, then the job ends (cancelled) rather than waiting to resume.
        stopping = pauseSent = true
        ctx.log('Stopping: the ranks finish this step and save a checkpoint, then the job ends.')
        process.kill(group, 'SIGUSR1')
        killTimer = setTimeout(() => killGroup('SIGKILL'), STOP_GRACE_MS)
        return
      }
      if (guarded) {
        // Here a SIGTERM is a pause to the ranks (with a checkpoint): a stop that keeps nothing is SIGKILL, to the whole group.
        ctx.log('Stopping without a checkpoint: SIGKILL to every process of the run.')
        killGroup('SIGKILL')
        return
      }
      ctx.log('Cancelling: SIGTERM to every process of the run, SIGKILL in a few seconds.')
      killGroup('SIGTERM')
      killTimer = setTimeout(() => killGroup('SIGKILL'), CANCEL_GRACE_MS)
    }
    ctx.signal.addEventListener('abort', onCancel, { once: true })

    const onRecord = (r: Record<string, unknown>): void => {
      switch (r.type) {
        case 'start': {
          started = true
          const world = Number(r.world)
          ctx.report({
            type: 'backend',
            name: `pytorch ${String(r.torch)} ${String(r.device)}`,
            detail: `${world} process${world === 1 ? '' : 'es'}, ${launch.deviceType === 'cuda' ? 'NCCL' : 'gloo'}, ${String(r.dtype)}${typeof r.sharding === 'string' && r.sharding !== 'none' ? `, sharding ${r.sharding}` : ''}`
          })
          if (pauseWanted) sendPause()
          break
        }
        case 'step':
          relayStep(r, config.steps, ctx)
          break
        case 'checkpoint':
          lastCheckpoint = Number(r.step)
          ctx.report({ type: 'checkpoint', step: Number(r.step), dir: String(r.dir), bytes: Number(r.bytes), valLoss: typeof r.valLoss === 'number' ? r.valLoss : null })
          break
        case 'paused':
          paused = { kind: 'paused', step: Number(r.step), dir: String(r.dir) }
          break
        case 'done':
          done = { kind: 'done', steps: Number(r.steps), tokens: Number(r.tokens), seconds: Number(r.seconds) }
          break
      }
    }
    lines(child, 'stdout', (line) => {
      if (line.startsWith('{')) {
        try {
          onRecord(JSON.parse(line) as Record<string, unknown>)
          return
        } catch {
          // not one of ours: log it
        }
      }
      ctx.log(line)
    })
    lines(child, 'stderr', (line) => {
      const text = line.replace(/^\[default(\d+)\]:/, '[rank $1] ')
      stderrTail.push(text)
      if (stderrTail.length > STDERR_KEPT) stderrTail.shift()
      ctx.log(text)
    })

    child.on('error', (err) => finish(new Error(`Could not start ${launch.python}: ${err.message}. Set GPTW_PYTHON (or the config's python key) to a Python with torch.`)))
    // The launcher has stopped its ranks when it exits on its own; if it was killed, they are stopped here (and their pipes close).
    child.on('exit', () => killGroup('SIGKILL'))
    child.on('close', (code, signal) => {
      const failures = parseRankFailures(stderrTail.join('\n'))
      if (cancelled) {
        const kept = stopping && paused?.kind === 'paused' ? `Stopped at step ${paused.step}: saved a checkpoint there (${paused.dir}); resume the run to continue from it.` : undefined
        return finish(new JobCancelled(kept))
      }
      if (done) return finish(null, done)
      if (paused) return finish(null, paused)
      const after = lastCheckpoint === null ? ' No checkpoint was saved.' : ` The last checkpoint is at step ${lastCheckpoint}: resume the run to continue from it.`
      if (failures.length) return finish(new Error(`PyTorch training failed: ${failures.map(describeFailure).join('; ')}.${after}`))
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      const tail = stderrTail.slice(-3).join(' | ')
      finish(new Error(`PyTorch training failed: the launcher ${how}.${tail ? ` Last output: ${tail}` : ''}${after}`))
    })

    function finish(err: Error | null, outcome?: Outcome): void {
      clearTimeout(killTimer)
      // torchrun has stopped its ranks; anything of the group still alive (a stuck rank) goes now.
      killGroup('SIGKILL')
      process.off('exit', onExit)
      ctx.signal.removeEventListener('abort', onCancel)
      unsubscribe()
      if (err) reject(err)
      else resolve(outcome!)
    }
  })
}

function lines(child: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let partial = ''
  const s = child[stream]!
  s.setEncoding('utf8')
  s.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop()!
    for (const p of parts) if (p.trim()) onLine(p.replace(/\r$/, ''))
  })
  s.on('end', () => {
    if (partial.trim()) onLine(partial)
    partial = ''
  })
}
