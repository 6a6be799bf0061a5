// The Slurm launcher: the run as an sbatch script (shared/torchrun.ts slurmScript: srun starts one
// torchrun per node, c10d rendezvous at the first node's address), submitted with sbatch and
// followed through its log file (rank 0's JSON lines become metrics, per-device metrics, progress
// and checkpoint rows, as a local run's do; the rest the job log) and squeue until it ends
// (scontrol, else sacct, says how a failed one ended). Pause: the run folder's pause file (rank 0
// sees it after its step; the ranks checkpoint and stop) and a resubmission from that checkpoint on
// resume; cancel: scancel.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import type { TrainConfig } from '../../../shared/config/train'
import type { TrainWorkerParams } from '../../../shared/jobs'
import { slurmPauseFile, slurmScript, slurmSettings } from '../../../shared/torchrun'
import { JobCancelled, type JobContext } from '../../job-context'
import { describeFailure, parseRankFailures } from './rank-failures'
import { relayStep } from './step-record'

const run = promisify(execFile)
const POLL_MS = 2000
/** Lines of the job's log (not rank 0's records) kept to say which rank and node failed. */
const LOG_KEPT = 300

export interface SlurmBuildInput {
  config: TrainConfig
  python: string
  configFile: string
  datasetDir: string
  runDir: string
  packageDir: string
  resumeDir?: string
}

/** The run's sbatch script; its log is RUN_DIR/slurm-JOBID.log. */
export function buildSlurm(input: SlurmBuildInput): string {
  const l = input.config.launcher
  if (l.kind !== 'slurm') throw new Error(`launcher ${l.kind} is not slurm`)
  return slurmScript({
    ...input,
    initDir: input.config.init,
    ...slurmSettings(l),
    jobName: `gptw-${path.basename(input.runDir)}`.slice(0, 60),
    logFile: path.join(input.runDir, 'slurm-%j.log')
  })
}

/** Submits the run, follows it to its end and resubmits after a pause when the job is resumed. */
export async function slurmTrainJob(
  params: TrainWorkerParams,
  ctx: JobContext,
  options: { python: string; configFile: string; packageDir: string },
  pauses: (listener: () => void) => () => void
): Promise<unknown> {
  let resumeDir = params.resumeDir
  for (;;) {
    const script = buildSlurm({
      config: params.config,
      python: options.python,
      configFile: options.configFile,
      datasetDir: params.datasetDir,
      runDir: params.runDir,
      packageDir: options.packageDir,
      resumeDir
    })
    const file = path.join(params.runDir, 'slurm.sbatch')
    fs.writeFileSync(file, script)
    // The last pause's request is spent: the new job must not pause at its first step.
    const pauseFile = slurmPauseFile(params.runDir)
    fs.rmSync(pauseFile, { force: true })
    const submitted = await run('sbatch', ['--parsable', file]).catch((e: Error & { stderr?: string }) => {
      throw new Error(`sbatch could not submit ${file}: ${(e.stderr ?? e.message).trim()}`)
    })
    const jobId = submitted.stdout.trim().split(';')[0]
    if (resumeDir) ctx.log(`Resuming from ${resumeDir} on Slurm.`)
    ctx.log(`Submitted Slurm job ${jobId} (${file}); its log: ${path.join(params.runDir, `slurm-${jobId}.log`)}`)
    let pauseAsked = false
    const unsubscribe = pauses(() => {
      if (pauseAsked) return
      pauseAsked = true
      void pauseJob(jobId, pauseFile, ctx)
    })
    const outcome = await follow(jobId, path.join(params.runDir, `slurm-${jobId}.log`), params.config, ctx, () => pauseAsked).finally(unsubscribe)
    if (outcome.kind === 'done') return { runId: params.runId, steps: outcome.steps, tokens: outcome.tokens, seconds: outcome.seconds, backend: 'pytorch' }
    if (outcome.kind === 'unstarted') ctx.log(`Paused before Slurm job ${jobId} started training: nothing ran, so nothing was saved. Resume submits it again${resumeDir ? ` from ${resumeDir}` : ''}.`)
    else {
      // Not asked by the app: Slurm's TERM before the time limit (--signal=B:TERM@60) reached the batch script, whose trap paused the ranks; the run goes on in a new job.
      if (pauseAsked) ctx.log(`Paused at step ${outcome.step} with a checkpoint (${outcome.dir}); the Slurm job has ended. Resume submits a new one from it.`)
      else
        ctx.log(
          `Slurm job ${jobId} paused itself at step ${outcome.step} with a checkpoint (${outcome.dir}): its batch script was sent TERM (the time limit is near, or scancel --batch --signal=TERM). Submitting a new job from it.`
        )
      resumeDir = outcome.dir
    }
    await ctx.pausePoint()
  }
}

/**
 * A pause: a queued job has nothing to save, so it leaves the queue (scancel --state=PENDING cancels
 * it only if it is still pending); a running one gets the pause file (train --pause-file), which
 * rank 0 looks for after every step: the ranks finish the step, checkpoint and exit 0, and the job
 * ends COMPLETED. Not a signal: scancel --signal=TERM to a job whose srun step has not begun (its
 * prolog) answers 0 and nobody gets it, and one that reaches torchrun while it starts cancels the
 * step yet lets the ranks train on (seen here on slurm-wlm 22.05); the file waits for the ranks.
 */
async function pauseJob(jobId: string, pauseFile: string, ctx: JobContext): Promise<void> {
  const state = (): Promise<string> =>
    run('squeue', ['-h', '-j', jobId, '-o', '%T']).then(
      (r) => r.stdout.trim(),
      () => ''
    )
  if ((await state()) === 'PENDING') {
    ctx.log(`Pausing: Slurm job ${jobId} is still queued; scancel --state=PENDING ${jobId} takes it off the queue.`)
    await run('scancel', ['--state=PENDING', jobId]).catch((e: Error) => ctx.log(`scancel --state=PENDING ${jobId} failed: ${e.message}`, 'warn'))
    // It may have started meanwhile: then it is running and gets the pause file below.
    const now = await state()
    if (!now || now === 'PENDING' || now === 'CANCELLED') return
  }
  fs.writeFileSync(pauseFile, `pause asked by GPT Workbench at ${new Date().toISOString()}\n`)
  ctx.log(`Pausing: wrote ${pauseFile}; the ranks of Slurm job ${jobId} finish their step and save a checkpoint (ranks still starting pause after their first step).`)
}

type Outcome = { kind: 'done'; steps: number; tokens: number; seconds: number } | { kind: 'paused'; step: number; dir: string } | { kind: 'unstarted' }

async function follow(jobId: string, logFile: string, config: TrainConfig, ctx: JobContext, pauseAsked: () => boolean): Promise<Outcome> {
  let offset = 0
  let partial = ''
  let done: Outcome | null = null
  let paused: Outcome | null = null
  let lastCheckpoint: number | null = null
  let started = false
  let cancelled = false
  const tail: string[] = []
  const nodeOfPid = new Map<number, string>()
  const onCancel = (): void => {
    cancelled = true
    ctx.log(`Cancelling: scancel ${jobId}.`)
    void run('scancel', [jobId]).catch(() => undefined)
  }
  ctx.signal.addEventListener('abort', onCancel, { once: true })
  const readLog = (): void => {
    if (!fs.existsSync(logFile)) return
    const size = fs.statSync(logFile).size
    if (size <= offset) return
    const fd = fs.openSync(logFile, 'r')
    const buf = Buffer.alloc(size - offset)
    fs.readSync(fd, buf, 0, buf.length, offset)
    fs.closeSync(fd)
    offset = size
    const parts = (partial + buf.toString('utf8')).split('\n')
    partial = parts.pop()!
    for (const line of parts) {
      if (!line.trim()) continue
      const r = line.startsWith('{') ? parseRecord(line) : null
      if (!r) {
        ctx.log(line)
        const where = /rank \d+ \(pid (\d+)\) runs on (\S+)$/.exec(line)
        if (where) nodeOfPid.set(Number(where[1]), where[2])
        tail.push(line)
        if (tail.length > LOG_KEPT) tail.shift()
      } else if (r.type === 'start') {
        started = true
        ctx.report({
          type: 'backend',
          name: `pytorch ${String(r.torch)} ${String(r.device)}`,
          detail: `${Number(r.world)} processes on Slurm job ${jobId}, ${String(r.dtype)}${typeof r.sharding === 'string' && r.sharding !== 'none' ? `, sharding ${r.sharding}` : ''}`
        })
      } else if (r.type === 'step') relayStep(r, config.steps, ctx, `Slurm job ${jobId}`)
      else if (r.type === 'checkpoint') {
        lastCheckpoint = Number(r.step)
        ctx.report({ type: 'checkpoint', step: Number(r.step), dir: String(r.dir), bytes: Number(r.bytes), valLoss: typeof r.valLoss === 'number' ? r.valLoss : null })
      } else if (r.type === 'paused') paused = { kind: 'paused', step: Number(r.step), dir: String(r.dir) }
      else if (r.type === 'done') done = { kind: 'done', steps: Number(r.steps), tokens: Number(r.tokens), seconds: Number(r.seconds) }
    }
  }
  try {
    for (;;) {
      readLog()
      const queued = await run('squeue', ['-h', '-j', jobId, '-o', '%T']).then(
        (r) => r.stdout.trim(),
        () => ''
      )
      if (!queued) break
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    readLog()
    if (cancelled) throw new JobCancelled()
    if (done) return done
    if (paused) return paused
    // Paused while queued (or stopped before the ranks began): nothing ran since the last checkpoint.
    if (pauseAsked() && !started) return { kind: 'unstarted' }
    const state = await endState(jobId)
    const after = lastCheckpoint === null ? ' No checkpoint was saved.' : ` The last checkpoint is at step ${lastCheckpoint}: resume the run to continue from it.`
    throw new Error(`PyTorch training failed: ${whoFailed(tail, nodeOfPid)}Slurm job ${jobId} ended ${state || 'without an accounting record'} (log: ${logFile}).${after}`)
  } finally {
    ctx.signal.removeEventListener('abort', onCancel)
  }
}

/**
 * The ranks torchrun says failed, each with the node it ran on (its "rank R (pid P) runs on NODE"
 * line at start: torchrun's summary names a pid and a host, and several Slurm nodes may share a
 * host), as the start of the failure message: "rank 1 (local rank 0, pid 8922) was killed by
 * SIGKILL on node2; ". Ranks killed by a signal come first: the others usually failed for losing
 * their peer.
 */
function whoFailed(logLines: string[], nodeOfPid: ReadonlyMap<number, string>): string {
  return parseRankFailures(logLines.join('\n'))
    .map((f) => `${describeFailure(f)}${nodeOfPid.has(f.pid) ? ` on ${nodeOfPid.get(f.pid)}` : ''}; `)
    .join('')
}

/**
 * How an ended job ended, e.g. "FAILED, exit code 1:0". The controller keeps an ended job for MinJobAge
 * (300 s by default), so scontrol answers first: sacct needs accounting (slurmdbd), which many
 * clusters and a bare slurm-wlm lack ("Slurm accounting storage is disabled", exit 1). sacct then
 * for a job the controller has already let go.
 */
async function endState(jobId: string): Promise<string> {
  const shown = await run('scontrol', ['show', 'job', '-o', jobId]).then(
    (r) => r.stdout,
    () => ''
  )
  const state = /\bJobState=(\S+)/.exec(shown)?.[1]
  if (state) return `${state}, exit code ${/\bExitCode=(\S+)/.exec(shown)?.[1] ?? 'unknown'}`
  return run('sacct', ['-j', jobId, '-X', '-n', '-P', '-o', 'State,ExitCode']).then(
    (r) => r.stdout.trim().replace('|', ', exit code '),
    (e: Error & { stderr?: string }) => `in an unknown state (sacct: ${(e.stderr ?? e.message).trim()})`
  )
}

function parseRecord(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>
  } catch {
    return null
  }
}
