// Stop on the PyTorch engine run here (local torchrun) keeps the steps, as on the embedded engine:
// the ranks get the pause's SIGTERM through gptw_torch.with_parent, save a checkpoint at the current
// step and exit; the job ends cancelled with a last line naming that step, no process is left, and
// the run resumes from there. A stop without the checkpoint ends at once and adds none.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PYTHON, SLOW, alive, descendants, describeTorch, makeDataset } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

const tiny = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

describeTorch('Stop on the PyTorch engine', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('saves a checkpoint at the current step when asked, says so, and the run resumes from it; without, adds none', async () => {
    const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    open.push(wb)
    const config: TrainConfigInput = {
      ...tiny,
      engine: 'pytorch',
      python: PYTHON,
      devices: ['cpu:0', 'cpu:1'],
      batchSize: 4,
      steps: 5000,
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 3 }
    }
    const start = async (params: unknown): Promise<number> => {
      const r = await wb.call('jobs.start', { kind: 'train', params })
      if (!r.ok) throw new Error(r.error.message)
      return r.value.id
    }
    const jobId = await start({ config, dataset })
    const run = wb.runs.byJob(jobId)!
    const steps = (): number[] =>
      wb.runs
        .metrics(run.id)
        .filter((m) => m.name === 'loss')
        .map((m) => m.step)
    await waitFor(() => steps().length >= 2, SLOW, 'two steps')
    const { pid } = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number }
    const tree = descendants(pid)
    const seen = Math.max(...steps())

    const stopped = await wb.call('jobs.cancel', { id: jobId, checkpoint: true })
    expect(stopped.ok).toBe(true)
    const ended = await wb.supervisor.waitForExit(jobId)
    expect(ended.state).toBe('cancelled')
    const saved = wb.runs.checkpoints(run.id)
    expect(saved).toHaveLength(1)
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
