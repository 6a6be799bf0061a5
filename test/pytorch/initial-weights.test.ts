// A fresh local PyTorch run starts from weights the train worker draws with the embedded engine's
// initParams (core/engine/pytorch/initial-weights.ts) instead of Python's slow replica: through the
// real Workbench, the PyTorch job and an embedded job of one config on one dataset print the same
// losses step by step, the job log says where the weights came from, and the folder is gone after.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'
import { PYTHON, SLOW, describeTorch, makeDataset } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

const tiny = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

async function train(wb: Workbench, config: TrainConfigInput, dataset: string): Promise<{ losses: number[]; log: string[]; runDir: string }> {
  const started = await wb.call('jobs.start', { kind: 'train', params: { config, dataset } })
  if (!started.ok) throw new Error(started.error.message)
  const ended = await wb.supervisor.waitForExit(started.value.id)
  const log = wb.jobs.logs(started.value.id, 0, 5000).map((l) => l.text)
  expect(ended.state, `${ended.error}\n${log.join('\n')}`).toBe('done')
  const run = wb.runs.byJob(started.value.id)!
  const losses = wb.runs
    .metrics(run.id)
    .filter((m) => m.name === 'loss')
    .sort((a, b) => a.step - b.step)
    .map((m) => m.value)
  return { losses, log, runDir: run.dir }
}

describeTorch('the first weights of a PyTorch run', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it(
    'are drawn by the worker as the embedded engine draws them: the same losses step by step, the folder removed after',
    async () => {
      const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
      open.push(wb)
      const config: TrainConfigInput = { ...tiny, python: PYTHON, devices: ['cpu:0'], batchSize: 4, steps: 3, seed: 7, eval: { interval: 0 }, checkpoint: { interval: 0, keepLast: 1 } }
      const embedded = await train(wb, { ...config, engine: 'embedded' }, dataset)
      const torch = await train(wb, { ...config, engine: 'pytorch' }, dataset)

      expect(
        torch.log.some((l) => /^Drew the initial weights as the embedded engine does \(seed 7\) in [\d.]+s: .*initial-weights$/.test(l)),
        torch.log.join('\n')
      ).toBe(true)
      expect(torch.log.some((l) => l.includes('--init') && l.includes('initial-weights'))).toBe(true)
      expect(torch.losses).toHaveLength(3)
      for (let i = 0; i < 3; i++) expect(Math.abs(torch.losses[i] - embedded.losses[i]) / embedded.losses[i], `step ${i + 1}: ${torch.losses[i]} vs ${embedded.losses[i]}`).toBeLessThan(1e-4)
      expect(fs.existsSync(path.join(torch.runDir, 'initial-weights'))).toBe(false)
    },
    SLOW
  )
})
