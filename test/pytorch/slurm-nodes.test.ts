// The Slurm launcher past one machine: a real two-node Slurm started here (slurm-cluster.ts: node1
// and node2, one slurmd each on this machine, told apart by their ports), and the app's train job
// on it with one CPU process per node. The sbatch script's srun starts a torchrun on each node;
// they meet at the first node's address (NodeAddr, from scontrol: "node1" resolves nowhere) and
// train as one run of world size 2, to the losses of one process with the same global batch (the
// first test with AdamW's state sharded over the two nodes: sharding optimizer). Rank 0's step
// lines carry both ranks' figures, which the app stores per device and shows as the progress
// line's spread, as it does for a local run. A pause checkpoints and ends the job, and the resumed
// job continues to the uninterrupted losses. A rank killed on node2 fails the job naming the rank
// and the node; cancel leaves no process of the job on either node. Skipped without slurm-wlm on a
// developer machine; under CI=true it must run.
import fs from 'node:fs'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { Workbench } from '../../src/main/services/workbench'
import { PAUSED_LOG_LINE } from '../../src/core/job-context'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PYTHON, SLOW, TINY_PRESET, describeTorch, freePort, jobLog, lossSteps, makeDataset, relativeError, startTrain, trainPython } from './helpers'
import { slurmProblem, useSlurmCluster } from './slurm-cluster'

/** Processes whose command line names the run folder and the trainer (srun, torchrun, the ranks), with the Slurm node each runs for (SLURMD_NODENAME in its environment). */
function processesOf(folder: string): { pid: number; args: string; node: string | undefined }[] {
  const out: { pid: number; args: string; node: string | undefined }[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (!args.includes(folder) || !args.includes('gptw_torch')) continue
      const env = fs.readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      out.push({ pid: Number(entry), args, node: env.find((e) => e.startsWith('SLURMD_NODENAME='))?.slice('SLURMD_NODENAME='.length) })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

const withSlurm = slurmProblem === null || process.env.CI === 'true'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('the Slurm launcher on two nodes', () => {
  describe.skipIf(!withSlurm)('against a real two-node Slurm started here', () => {
    let dataset: string
    beforeAll(() => {
      dataset = makeDataset(tempDir(), 40_000).dir
    })
    const cluster = useSlurmCluster(() => ({ nodes: 2 }))

    function workbench(): Workbench {
      const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
      open.push(wb)
      return wb
    }

    const base = (steps: number): TrainConfigInput => ({ ...TINY_PRESET, engine: 'pytorch', python: PYTHON, batchSize: 4, steps, eval: { interval: 0 }, checkpoint: { interval: 0, keepLast: 1 } })

    async function twoNodes(steps: number, extra: Partial<TrainConfigInput> = {}): Promise<{ config: TrainConfigInput; dataset: string }> {
      const launcher = { kind: 'slurm', nodes: 2, gpusPerNode: 0, cpuProcesses: 1, time: '00:10:00', rdzvPort: await freePort() } as const
      return { config: { ...base(steps), devices: ['cpu:0', 'cpu:1'], launcher, ...extra }, dataset }
    }

    /** The Slurm job ids the job's log says were submitted. */
    function slurmJobs(wb: Workbench, jobId: number): string[] {
      return wb.jobs
        .logs(jobId, 0, 10_000)
        .map((l) => /^Submitted Slurm job (\d+)/.exec(l.text)?.[1])
        .filter((id): id is string => id !== undefined)
    }

    it('one CPU process on each node, the optimizer state sharded over them, trains to the losses of one process; both ranks show per device', async () => {
      const STEPS = 4
      const wb = workbench()
      const id = await startTrain(wb, await twoNodes(STEPS, { sharding: 'optimizer' }))
      const run = wb.runs.byJob(id)!
      // While it trains: a rank on each node (the processes' SLURMD_NODENAME).
      const nodesSeen = new Set<string>()
      await waitFor(
        () => {
          for (const p of processesOf(run.dir)) if (p.node) nodesSeen.add(p.node)
          return nodesSeen.size === 2 || ['done', 'failed', 'cancelled'].includes(wb.jobs.get(id)!.state)
        },
        SLOW,
        'processes of the run on both nodes'
      )
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      expect([...nodesSeen].sort()).toEqual(['node1', 'node2'])
      const [slurmId] = slurmJobs(wb, id)
      const shown = cluster().client('scontrol', ['show', 'job', '-o', slurmId]).stdout
      expect(shown).toMatch(/\bNumNodes=2\b/)
      expect(shown).toMatch(/\bNodeList=node\[1-2\]/)
      expect(shown).toMatch(/\bJobState=COMPLETED\b/)
      expect(wb.runs.byJob(id)!.backend).toMatch(/^pytorch \S+ cpu/)

      // The same config in one process, without Slurm: the same global batch of 4, split 2 + 2 over the nodes above.
      const single = trainPython(tempDir(), { ...base(STEPS), devices: ['cpu:0'] }, dataset)
      const metrics = wb.runs.metrics(run.id)
      const losses = metrics.filter((m) => m.name === 'loss')
      expect(losses.map((m) => m.step)).toEqual([1, 2, 3, 4])
      const lossError = Math.max(...losses.map((m, i) => relativeError([m.value], [single.steps[i].loss])))
      expect(lossError).toBeLessThan(1e-5)

      // Both ranks' own figures, stored per device, and the spread on the progress line.
      expect(jobLog(wb, id)).toContain(`2 processes on Slurm job ${slurmId}, float32, sharding optimizer`)
      for (const name of ['rssMb@0', 'rssMb@1', 'stepSeconds@0', 'stepSeconds@1', 'optimizerStateBytes@0', 'optimizerStateBytes@1']) {
        expect(
          metrics.filter((m) => m.name === name).map((m) => m.step),
          name
        ).toEqual([1, 2, 3, 4])
      }
      // Each rank holds its share of AdamW's moments, not the whole.
      const held = [0, 1].map((r) => metrics.find((m) => m.name === `optimizerStateBytes@${r}` && m.step === STEPS)!.value)
      expect(Math.max(...held)).toBeLessThan(held[0] + held[1])
      const progress = wb.jobs.get(id)!.progressText
      expect(progress).toMatch(new RegExp(`^step 4/4 \\| loss .* \\| mem \\d+(-\\d+)? MB, step \\d+(-\\d+)? ms over 2 ranks \\| Slurm job ${slurmId}$`))
      console.log(
        `real two-node Slurm: job ${slurmId} on node1 + node2, losses ${losses.map((m) => m.value.toFixed(4)).join(', ')} (one process: max relative difference ${lossError.toExponential(2)}); "${progress}"`
      )
    })

    it("pause checkpoints both nodes' run and ends the Slurm job; resume continues it on two nodes to the losses of one uninterrupted process", async () => {
      const STEPS = 6
      const wb = workbench()
      const id = await startTrain(wb, await twoNodes(STEPS))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on two nodes')
      await wb.call('jobs.pause', { id })
      await waitFor(() => wb.jobs.logs(id, 0, 10_000).some((l) => l.text === PAUSED_LOG_LINE) || ['done', 'failed', 'cancelled'].includes(wb.jobs.get(id)!.state), SLOW, 'the pause to take hold')
      expect(wb.jobs.get(id)!.state, jobLog(wb, id)).toBe('paused')
      const pausedAt = wb.runs.checkpoints(run.id).at(-1)!.step
      expect(pausedAt).toBeLessThan(STEPS)
      await waitFor(() => processesOf(run.dir).length === 0, 20_000, 'no process of the paused run left')
      await wb.call('jobs.resume', { id })
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}\n${cluster().logs()}`).toBe('done')
      expect(slurmJobs(wb, id)).toHaveLength(2)
      const losses = wb.runs.metrics(run.id).filter((m) => m.name === 'loss')
      expect(losses.map((m) => m.step)).toEqual(Array.from({ length: STEPS }, (_, i) => i + 1))
      const single = trainPython(tempDir(), { ...base(STEPS), devices: ['cpu:0'] }, dataset)
      const lossError = Math.max(...losses.map((m, i) => relativeError([m.value], [single.steps[i].loss])))
      expect(lossError).toBeLessThan(1e-5)
      console.log(`real two-node Slurm: paused at step ${pausedAt}, resumed to step ${STEPS}; max relative difference from one uninterrupted process ${lossError.toExponential(2)}`)
    })

    it('a rank killed on node2 fails the job naming that rank and node; no process of the job is left on either node', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await twoNodes(500))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on two nodes')
      const rank = processesOf(run.dir).find((p) => p.node === 'node2' && p.args.includes(' -m gptw_torch train') && !p.args.includes('torch.distributed.run'))
      expect(rank, JSON.stringify(processesOf(run.dir))).toBeDefined()
      process.kill(rank!.pid, 'SIGKILL')
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state).toBe('failed')
      const [slurmId] = slurmJobs(wb, id)
      expect(ended.error, jobLog(wb, id)).toMatch(new RegExp(`^PyTorch training failed: rank \\d \\(local rank 0, pid ${rank!.pid}\\) was killed by SIGKILL on node2; `))
      expect(ended.error).toContain(`Slurm job ${slurmId} ended FAILED, exit code `)
      await waitFor(() => processesOf(run.dir).length === 0, 30_000, 'no process of the failed job left')
      console.log(`real two-node Slurm: rank ${rank!.pid} on node2 killed: ${ended.error}`)
    })

    it('cancel: scancel stops the ranks on both nodes', async () => {
      const wb = workbench()
      const id = await startTrain(wb, await twoNodes(500))
      const run = wb.runs.byJob(id)!
      await waitFor(() => lossSteps(wb, run.id).length > 0, SLOW, 'a first step on two nodes')
      const before = processesOf(run.dir)
      expect(new Set(before.map((p) => p.node)), JSON.stringify(before)).toEqual(new Set(['node1', 'node2']))
      await wb.call('jobs.cancel', { id })
      const ended = await wb.supervisor.waitForExit(id)
      expect(ended.state, `${ended.error}\n${jobLog(wb, id)}`).toBe('cancelled')
      await waitFor(() => processesOf(run.dir).length === 0, 30_000, 'no process of the cancelled job left on either node')
      console.log(`real two-node Slurm: cancel stopped ${before.length} processes (${before.map((p) => `${p.pid}@${p.node}`).join(', ')})`)
    })
  })
})
