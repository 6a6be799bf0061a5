// Stop on the PyTorch engine run here (local torchrun) keeps the steps, as on the embedded engine:
// the ranks get the pause's SIGTERM through gptw_torch.with_parent, save a checkpoint at the current
// step and exit; the job ends cancelled with a last line naming that step, no process is left, and
// the run resumes from there. A stop without the checkpoint ends at once and adds none.
import { afterEach, beforeAll, expect, it } from 'vitest'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { SLOW, alive, descendants, describeTorch, jobLog, longTorchRun, lossSteps, makeDataset, startTrain } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('Stop on the PyTorch engine', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('saves a checkpoint at the current step when asked, says so, and the run resumes from it; without, adds none', async () => {
    const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    open.push(wb)
    const start = (params: unknown): Promise<number> => startTrain(wb, params)
    const jobId = await start({ config: longTorchRun(3), dataset })
    const run = wb.runs.byJob(jobId)!
    const steps = (): number[] => lossSteps(wb, run.id)
    await waitFor(() => steps().length >= 2, SLOW, 'two steps')
    const { pid } = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number }
    const tree = descendants(pid)
    const seen = Math.max(...steps())

    const stopped = await wb.call('jobs.cancel', { id: jobId, checkpoint: true })
    expect(stopped.ok).toBe(true)
    const ended = await wb.supervisor.waitForExit(jobId)
    expect(ended.state).toBe('cancelled')
    const saved = wb.runs.checkpoints(run.id)
    expect(saved, jobLog(wb, jobId)).toHaveLength(1)
    expect(saved[0].step).toBeGreaterThanOrEqual(seen)
    expect(ended.progressText).toBe(`Stopped at step ${saved[0].step}: saved a checkpoint there (${saved[0].path}); resume the run to continue from it.`)
    expect(Math.max(...steps())).toBe(saved[0].step)
    await waitFor(() => tree.every((p) => !alive(p.pid)), 20_000, 'no process of the stopped run left')

    // The run resumes from the stop's checkpoint; a stop without a checkpoint then adds none.
    const resumed = await start({ resume: { runId: run.id } })
    await waitFor(() => steps().includes(saved[0].step + 1), SLOW, 'a step after the stop')
    await wb.call('jobs.cancel', { id: resumed, checkpoint: false })
    expect((await wb.supervisor.waitForExit(resumed)).state).toBe('cancelled')
    expect(wb.runs.checkpoints(run.id).map((c) => c.step)).toEqual([saved[0].step])
  })
})
