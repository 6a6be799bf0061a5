// The Slurm launcher's sbatch script (core/engine/pytorch/slurm.ts buildSlurm, from a config's
// launcher key): it parses (`bash -n`), asks Slurm for what the config says, and its srun line
// trains; that first test runs the script as Slurm would run it on a one-node job, with SLURM_*
// set and `srun` / `scontrol` replaced by stand-ins, so it needs no Slurm. The others run the
// app's job path against a real single-node Slurm that this file starts (slurm-cluster.ts:
// Debian's slurmctld + slurmd on free ports, auth/none, no accounting): sbatch, the log followed
// into metrics, pause (the run folder's pause file: the ranks checkpoint) and a resubmission on resume,
// pause of a job still queued or still in its prolog, a dead rank's failure, sbatch's refusal,
// cancel (scancel: no process of the job left, the queue empty). Skipped without slurm-wlm on a
// developer machine; under CI=true they must run (.ci/run installs it).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TrainConfig } from '../../src/shared/config/train'
import { buildSlurm } from '../../src/core/engine/pytorch/slurm'
import { quote, slurmPauseFile } from '../../src/shared/torchrun'
import { Workbench } from '../../src/main/services/workbench'
import { PAUSED_LOG_LINE } from '../../src/core/job-context'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PACKAGE_DIR, PYTHON, SLOW, TINY_PRESET, describeTorch, freePort, jobLog, lossSteps, makeDataset, records, startTrain } from './helpers'
import { slurmProblem, useSlurmCluster } from './slurm-cluster'

let dataset: string

/** A waitFor probe that runs a Slurm client asks at most every 250 ms (waitFor polls every 20 ms). */
function throttled<T>(probe: () => T): () => T | undefined {
  let last = 0
  return () => {
    if (Date.now() - last < 250) return undefined
    last = Date.now()
    return probe()
  }
}

/** Processes (any parent: slurmstepd starts them) whose command line names the run folder and the trainer: srun, torchrun, the ranks. */
function processesOf(folder: string): { pid: number; args: string }[] {
  const out: { pid: number; args: string }[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (args.includes(folder) && args.includes('gptw_torch')) out.push({ pid: Number(entry), args })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const ci = process.env.CI === 'true'
const withSlurm = slurmProblem === null || ci

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('the Slurm launcher', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 40_000).dir
  })

  it('asks sbatch for the launcher settings; the script parses and its srun line trains 2 steps on 2 CPU ranks', async () => {
    const port = await freePort()
    const launcher = { kind: 'slurm', nodes: 1, gpusPerNode: 0, cpuProcesses: 2, time: '00:30:00', partition: 'debug', account: 'lab-7', rdzvPort: port } as const
    const config = TrainConfig.parse({
      ...TINY_PRESET,
      engine: 'pytorch',
      python: PYTHON,
      devices: ['cpu:0', 'cpu:1'],
      batchSize: 4,
      steps: 2,
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 1 },
      launcher
    })
    const dir = tempDir()
    const runDir = path.join(dir, 'run with space')
    fs.mkdirSync(runDir)
    const configFile = path.join(runDir, 'pytorch-config.json')
    fs.writeFileSync(configFile, JSON.stringify(config))
    const script = buildSlurm({ config, python: PYTHON, configFile, datasetDir: dataset, runDir, packageDir: PACKAGE_DIR })
    const file = path.join(dir, 'job.sbatch')
    fs.writeFileSync(file, script)

    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' })
    expect(syntax.status, syntax.stderr).toBe(0)
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH'))
    expect(directives).toEqual(
      expect.arrayContaining([
        '#SBATCH --nodes=1',
        '#SBATCH --ntasks-per-node=1',
        '#SBATCH --cpus-per-task=2',
        '#SBATCH --time=00:30:00',
        '#SBATCH --partition=debug',
        '#SBATCH --account=lab-7',
        `#SBATCH --output=${runDir}/slurm-%j.log`
      ])
    )
    const srun = script.split('\n').find((l) => l.startsWith('srun '))!
    expect(srun).toContain(`-m torch.distributed.run --nnodes "$SLURM_NNODES" --nproc_per_node 2 --rdzv_backend c10d --rdzv_endpoint "$head_addr:${port}"`)
    expect(srun).toContain(`--out '${runDir}'`)
    expect(srun).toContain(`--pause-file '${runDir}/pause-request'`)

    // Stand-ins: srun drops its own options and runs the command once; scontrol names this machine as the job's node list.
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'srun'), '#!/bin/bash\nwhile [[ "$1" == --* ]]; do shift; done\nexec "$@"\n', { mode: 0o755 })
    fs.writeFileSync(path.join(bin, 'scontrol'), '#!/bin/bash\n[ "$1 $2" = "show hostnames" ] && echo "$3"\n', { mode: 0o755 })
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, SLURM_NNODES: '1', SLURM_JOB_ID: '4242', SLURM_JOB_NODELIST: 'localhost', SLURM_NODEID: '0' }
    const t0 = Date.now()
    const ran = spawnSync('bash', [file], { encoding: 'utf8', env, timeout: 240_000, maxBuffer: 64 << 20 })
    expect(ran.status, `${ran.stdout}\n${ran.stderr}`).toBe(0)
    const lines = records(ran.stdout)
    const start = lines.find((r) => r.type === 'start')!
    expect(start.world).toBe(2)
    const steps = lines.filter((r) => r.type === 'step') as { step: number; loss: number }[]
    expect(steps.map((s) => s.step)).toEqual([1, 2])
    for (const s of steps) expect(s.loss).toBeGreaterThan(5)
    expect(lines.find((r) => r.type === 'done')).toMatchObject({ steps: 2 })
    expect(fs.existsSync(path.join(runDir, 'checkpoints', 'step-2', 'model.safetensors'))).toBe(true)
    console.log(
      `sbatch script's srun line without Slurm (1 node, 2 CPU ranks, c10d at localhost:${port}): losses ${steps.map((s) => s.loss.toFixed(4)).join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`
    )
  })

  describe.skipIf(!withSlurm)('against a real single-node Slurm started here', () => {
    let slowStart = ''
    // A job's start can be held back for a test (a slow prolog while the flag file exists), as a site's prolog or a slow node does.
    const cluster = useSlurmCluster(() => {
      slowStart = path.join(tempDir(), 'slow-prolog')
      return { prolog: `[ -e '${slowStart}' ] && sleep 15\nexit 0` }
    })

    function workbench(): Workbench {
      const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
      open.push(wb)
      return wb
    }

    async function params(steps: number, keepLast: number): Promise<unknown> {
      const launcher = { kind: 'slurm', nodes: 1, gpusPerNode: 0, cpuProcesses: 2, time: '00:10:00', rdzvPort: await freePort() }
      return {
        config: { ...TINY_PRESET, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'], batchSize: 4, steps, eval: { interval: 0 }, checkpoint: { interval: 0, keepLast }, launcher },
        dataset
      }
    }

    /** The Slurm job ids the job's log says were submitted. */
    function slurmJobs(wb: Workbench, jobId: number): string[] {
      return wb.jobs
        .logs(jobId, 0, 10_000)
        .map((l) => /^Submitted Slurm job (\d+)/.exec(l.text)?.[1])
        .filter((id): id is string => id !== undefined)
    }

    /** What squeue still lists (any state): the cluster is this file's own, so only our jobs. */
    const queue = (): string => cluster().client('squeue', ['-h', '-o', '%i %T']).stdout.trim()

    /** A Slurm job's state as the controller keeps it after the end (no accounting here, so no sacct). */
    const jobState = (id: string): string | undefined => /JobState=(\S+)/.exec(cluster().client('scontrol', ['show', 'job', '-o', id]).stdout)?.[1]

    it('the app submits the run with sbatch and follows its log to the end', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await params(3, 1))
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      const run = wb.runs.byJob(id)!
      const losses = wb.runs.metrics(run.id).filter((m) => m.name === 'loss')
      expect(losses.map((m) => m.step)).toEqual([1, 2, 3])
      for (const m of losses) expect(m.value).toBeGreaterThan(5)
      expect(wb.runs.checkpoints(run.id).map((c) => c.step)).toEqual([3])
      expect(run.backend).toMatch(/^pytorch \S+ cpu/)
      const submitted = slurmJobs(wb, id)
      expect(submitted).toHaveLength(1)
      expect(jobState(submitted[0])).toBe('COMPLETED')
      expect(queue()).toBe('')
      console.log(`real Slurm: job ${submitted[0]} COMPLETED; losses ${losses.map((m) => m.value.toFixed(4)).join(', ')}`)
    })

    it('pause: the pause file checkpoints and ends the Slurm job; resume submits a new one that continues from that step', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await params(8, 5))
      const run = wb.runs.byJob(id)!
      const logs = (): string[] => wb.jobs.logs(id, 0, 10_000).map((l) => l.text)
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on Slurm')
      await wb.call('jobs.pause', { id })
      await waitFor(() => logs().includes(PAUSED_LOG_LINE) || ['done', 'failed', 'cancelled'].includes(wb.jobs.get(id)!.state), SLOW, 'the pause to take hold')
      expect(wb.jobs.get(id)!.state, jobLog(wb, id)).toBe('paused')
      const pausedAt = wb.runs.checkpoints(run.id).at(-1)!
      expect(pausedAt.step).toBeLessThan(8)
      expect(fs.existsSync(path.join(pausedAt.path, 'optimizer.safetensors'))).toBe(true)
      expect(lossSteps(wb, run.id).at(-1)).toBe(pausedAt.step)
      const [first] = slurmJobs(wb, id)
      // The Slurm job is over, not held: nothing queued, no rank left; a pause is no failure in Slurm's books.
      expect(queue()).toBe('')
      await waitFor(
        throttled(() => jobState(first) === 'COMPLETED'),
        10_000,
        `Slurm job ${first} COMPLETED (it is ${jobState(first)})`
      )
      await waitFor(() => processesOf(run.dir).length === 0, 20_000, 'no process of the paused run left')
      await wb.call('jobs.resume', { id })
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      const submitted = slurmJobs(wb, id)
      expect(submitted).toHaveLength(2)
      expect(submitted[0]).toBe(first)
      expect(logs()).toContain(`Resuming from ${pausedAt.path} on Slurm.`)
      expect(fs.readFileSync(path.join(run.dir, 'slurm.sbatch'), 'utf8')).toContain(`--resume ${quote(pausedAt.path)}`)
      expect(lossSteps(wb, run.id)).toEqual(Array.from({ length: 8 }, (_, i) => i + 1))
      expect(jobState(submitted[1])).toBe('COMPLETED')
      console.log(`real Slurm: paused at step ${pausedAt.step} (job ${first} ${jobState(first)}), resumed as job ${submitted[1]} to step 8`)
    })

    it("the time limit's TERM to the batch script (--signal=B:TERM@60) pauses the ranks through the pause file; the job goes on in a new submission", async () => {
      // Enough steps that the TERM, sent after the app has seen a first step (it reads the log every 2 s), lands before the last one.
      const STEPS = 20
      const wb = workbench()
      const id = await startTrain(wb, await params(STEPS, 5))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on Slurm')
      const [first] = slurmJobs(wb, id)
      // What Slurm does 60 s before the time limit: TERM to the batch shell only.
      const term = cluster().client('scancel', ['--batch', '--signal=TERM', first])
      expect(term.status, term.stderr).toBe(0)
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      const submitted = slurmJobs(wb, id)
      expect(submitted, jobLog(wb, id)).toHaveLength(2)
      expect(jobState(first)).toBe('COMPLETED')
      const pausedAt = wb.runs.checkpoints(run.id).find((c) => c.step < STEPS)?.step
      expect(pausedAt, jobLog(wb, id)).toBeDefined()
      expect(lossSteps(wb, run.id)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1))
      console.log(`real Slurm: the batch script's TERM paused job ${first} at step ${pausedAt}; job ${submitted[1]} trained on to step ${STEPS}`)
    })

    it('pause while the Slurm job waits in the queue takes it off the queue; resume submits it again and it trains from step 1', async () => {
      // A job holding the whole node keeps the run's job pending (Reason=Resources), as on a busy cluster.
      const blocker = cluster().client('sbatch', ['--parsable', '--exclusive', '--output=/dev/null', '--wrap', 'sleep 600'])
      expect(blocker.status, blocker.stderr).toBe(0)
      const blockerId = blocker.stdout.trim().split(';')[0]
      const wb = workbench()
      const id = await startTrain(wb, await params(3, 1))
      const run = wb.runs.byJob(id)!
      const logs = (): string[] => wb.jobs.logs(id, 0, 10_000).map((l) => l.text)
      const pending = await waitFor(
        throttled(() => {
          const [slurmId] = slurmJobs(wb, id)
          return slurmId && queue().includes(`${slurmId} PENDING`) ? slurmId : undefined
        }),
        SLOW,
        "the run's Slurm job pending behind the blocker"
      )
      await wb.call('jobs.pause', { id })
      await waitFor(() => logs().includes(PAUSED_LOG_LINE) || ['done', 'failed', 'cancelled'].includes(wb.jobs.get(id)!.state), SLOW, 'the pause to take hold')
      expect(wb.jobs.get(id)!.state, jobLog(wb, id)).toBe('paused')
      expect(logs()).toContain(`Paused before Slurm job ${pending} started training: nothing ran, so nothing was saved. Resume submits it again.`)
      expect(queue()).toBe(`${blockerId} RUNNING`)
      expect(jobState(pending)).toBe('CANCELLED')
      expect(lossSteps(wb, run.id)).toEqual([])
      expect(cluster().client('scancel', [blockerId]).status).toBe(0)
      await wb.call('jobs.resume', { id })
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      const submitted = slurmJobs(wb, id)
      expect(submitted).toHaveLength(2)
      expect(lossSteps(wb, run.id)).toEqual([1, 2, 3])
      console.log(`real Slurm: pause of pending job ${pending} took it off the queue; resumed as job ${submitted[1]} to step 3`)
    })

    it('pause while the job runs its prolog (no srun step yet) takes hold after the first step; resume trains to the end', async () => {
      fs.writeFileSync(slowStart, '')
      try {
        const wb = workbench()
        const id = await startTrain(wb, await params(3, 1))
        const run = wb.runs.byJob(id)!
        const logs = (): string[] => wb.jobs.logs(id, 0, 10_000).map((l) => l.text)
        const running = await waitFor(
          throttled(() => {
            const [slurmId] = slurmJobs(wb, id)
            return slurmId && queue().includes(`${slurmId} RUNNING`) ? slurmId : undefined
          }),
          SLOW,
          "the run's Slurm job running its prolog"
        )
        await wb.call('jobs.pause', { id })
        fs.rmSync(slowStart)
        await waitFor(() => logs().includes(PAUSED_LOG_LINE) || ['done', 'failed', 'cancelled'].includes(wb.jobs.get(id)!.state), SLOW, 'the pause to take hold')
        expect(wb.jobs.get(id)!.state, jobLog(wb, id)).toBe('paused')
        expect(logs()).toContain(
          `Pausing: wrote ${slurmPauseFile(run.dir)}; the ranks of Slurm job ${running} finish their step and save a checkpoint (ranks still starting pause after their first step).`
        )
        expect(queue()).toBe('')
        await waitFor(() => processesOf(run.dir).length === 0, 20_000, 'no process of the paused run left')
        // The file waited for the ranks: they paused at the end of their first step, with a checkpoint.
        const pausedAt = wb.runs.checkpoints(run.id).at(-1)?.step
        expect(pausedAt, jobLog(wb, id)).toBe(1)
        expect(jobState(running)).toBe('COMPLETED')
        await wb.call('jobs.resume', { id })
        const ended = await wb.supervisor.waitForExit(id)
        expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
        expect(lossSteps(wb, run.id)).toEqual([1, 2, 3])
        console.log(`real Slurm: pause of job ${running} in its prolog took hold once its step began (paused at step ${pausedAt}); resumed to step 3`)
      } finally {
        fs.rmSync(slowStart, { force: true })
      }
    })

    it('a rank that dies fails the job, which says how the Slurm job ended (scontrol: no accounting here)', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await params(500, 1))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on Slurm')
      const rank = processesOf(run.dir).find((p) => p.args.includes(' -m gptw_torch train') && !p.args.includes('torch.distributed.run'))
      expect(
        rank,
        processesOf(run.dir)
          .map((p) => p.args)
          .join('\n')
      ).toBeDefined()
      process.kill(rank!.pid, 'SIGKILL')
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state).toBe('failed')
      const [slurmId] = slurmJobs(wb, id)
      expect(ended.error).toContain(`Slurm job ${slurmId} ended FAILED, exit code `)
      expect(ended.error).toContain('No checkpoint was saved.')
      await waitFor(() => processesOf(run.dir).length === 0, 30_000, 'no process of the failed job left')
      expect(queue()).toBe('')
      console.log(`real Slurm: rank ${rank!.pid} killed: ${ended.error}`)
    })

    it("a submission sbatch refuses fails the job with sbatch's reason", async () => {
      const wb = workbench()
      const p = (await params(3, 1)) as { config: { launcher: Record<string, unknown> } }
      p.config.launcher.partition = 'nosuch'
      const id = await startTrain(wb, p)
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state).toBe('failed')
      expect(ended.error).toMatch(/sbatch could not submit .*slurm\.sbatch: .*invalid partition/i)
      expect(queue()).toBe('')
    })

    it('cancel: scancel stops every process of the job and leaves the queue empty', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await params(500, 1))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on Slurm')
      const before = processesOf(run.dir)
      // srun (its arguments are the torchrun line), torchrun and its 2 ranks.
      expect(before.length, before.map((p) => p.args).join('\n')).toBeGreaterThanOrEqual(3)
      await wb.call('jobs.cancel', { id })
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}`).toBe('cancelled')
      await waitFor(() => processesOf(run.dir).length === 0, 30_000, 'no process of the cancelled job left')
      const [slurmId] = slurmJobs(wb, id)
      await waitFor(
        throttled(() => queue() === ''),
        30_000,
        'an empty queue'
      )
      expect(jobState(slurmId)).toBe('CANCELLED')
      console.log(`real Slurm: cancel of job ${slurmId}: ${before.length} processes (${before.map((p) => p.pid).join(', ')}) all gone, state ${jobState(slurmId)}`)
    })
  })
})
