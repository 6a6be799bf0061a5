// Two PyTorch runs on one machine at once, as two train jobs of the app: each torchrun hosts its
// own rendezvous. With torch 1.13's --standalone both took port 29400: the second launcher joined
// the first one's store as a client, and when the first run ended it lost the store and stopped
// its ranks. Here the first run is stopped outright, and the second trains on and still stops with
// its checkpoint.
import { afterEach, beforeAll, expect, it } from 'vitest'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { SLOW, describeTorch, jobLog, longTorchRun, lossSteps, makeDataset, startTrain } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('two PyTorch runs at once', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('stopping the first leaves the second training, and the second stops with its checkpoint', async () => {
    const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    open.push(wb)
    const first = await startTrain(wb, { config: longTorchRun(2), dataset })
    await waitFor(() => lossSteps(wb, wb.runs.byJob(first)!.id).length >= 1, SLOW, 'the first run to step')
    const second = await startTrain(wb, { config: longTorchRun(2), dataset })
    const run = wb.runs.byJob(second)!
    await waitFor(() => lossSteps(wb, run.id).length >= 1, SLOW, 'the second run to step')

    await wb.call('jobs.cancel', { id: first, checkpoint: false })
    expect((await wb.supervisor.waitForExit(first)).state).toBe('cancelled')
    const stepAtEnd = Math.max(...lossSteps(wb, run.id))
    await waitFor(() => wb.jobs.get(second)!.state !== 'running' || Math.max(...lossSteps(wb, run.id)) >= stepAtEnd + 3, SLOW, 'the second run to train on')
    expect(wb.jobs.get(second)!.state, jobLog(wb, second)).toBe('running')
    await wb.call('jobs.cancel', { id: second, checkpoint: true })
    const stopped = await wb.supervisor.waitForExit(second)
    expect(stopped.state, jobLog(wb, second)).toBe('cancelled')
    expect(wb.runs.checkpoints(run.id), jobLog(wb, second)).toHaveLength(1)
  })
})
