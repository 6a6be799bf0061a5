// Training through the real services and worker processes: data-parallel equivalence, resume
// that continues bit for bit, and clear refusals of bad configs and damaged data.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import type { TrainParams } from '../../src/shared/jobs'
import { Workbench } from '../../src/main/services/workbench'
import { loadNative } from '../../src/core/engine/native'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'

let workbench: Workbench

beforeAll(() => {
  workbench = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
})
afterAll(() => workbench.close())

const small = (overrides: Partial<TrainConfigInput> = {}): TrainConfigInput => ({
  model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
  batchSize: 4,
  steps: 4,
  optimizer: { lr: 2e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 0, keepLast: 5 },
  backend: 'wasm',
  seed: 7,
  ...overrides
})

async function train(params: unknown) {
  const reply = await workbench.call('jobs.start', { kind: 'train', params: params as TrainParams })
  if (!reply.ok) throw new Error(reply.error.message)
  const job = await workbench.supervisor.waitForExit(reply.value.id)
  const run = workbench.runs.byJob(job.id)!
  return { job, run, losses: series(run.id, 'loss') }
}

function series(runId: number, name: string): number[] {
  return workbench.runs
    .metrics(runId)
    .filter((m) => m.name === name)
    .map((m) => m.value)
}

function weights(dir: string) {
  return readSafetensors(path.join(dir, 'model.safetensors')).tensors
}

describe('training runs', () => {
  it('trains on one worker and on two data-parallel workers to the same losses and parameters', async () => {
    const one = await train({ config: small({ devices: ['cpu:0'] }) })
    const two = await train({ config: small({ devices: ['cpu:0', 'cpu:1'] }) })
    expect(one.job.state, one.job.error ?? '').toBe('done')
    expect(two.job.state, two.job.error ?? '').toBe('done')
    expect(two.losses).toHaveLength(4)
    two.losses.forEach((loss, i) => expect(Math.abs(loss - one.losses[i]) / one.losses[i]).toBeLessThan(1e-4))
    const logs = workbench.jobs.logs(two.job.id).map((l) => l.text)
    expect(logs.some((t) => /Parameters identical on all 2 workers/.test(t))).toBe(true)
    const a = weights(workbench.runs.checkpoints(one.run.id).at(-1)!.path)
    const b = weights(workbench.runs.checkpoints(two.run.id).at(-1)!.path)
    for (const [name, t] of a) {
      const u = b.get(name)!.data
      let worst = 0
      for (let i = 0; i < t.data.length; i++) worst = Math.max(worst, Math.abs(t.data[i] - u[i]))
      expect(worst, name).toBeLessThan(2e-5)
    }
  })

  it.skipIf(!loadNative().kernels)('trains to the same losses on the native kernels as on wasm', async () => {
    const wasm = await train({ config: small({ backend: 'wasm' }) })
    const native = await train({ config: small({ backend: 'native' }) })
    expect(native.job.state, native.job.error ?? '').toBe('done')
    expect(workbench.runs.get(native.run.id)!.backend).toMatch(/^native/)
    native.losses.forEach((loss, i) => expect(Math.abs(loss - wasm.losses[i]) / wasm.losses[i]).toBeLessThan(1e-4))
  })

  it('resumes a run from a kept checkpoint and continues it bit for bit', async () => {
    const first = await train({ config: small({ steps: 6, checkpoint: { interval: 3, keepLast: 5 }, eval: { interval: 3, batches: 2 } }) })
    expect(first.job.state, first.job.error ?? '').toBe('done')
    expect(workbench.runs.checkpoints(first.run.id).map((c) => c.step)).toEqual([3, 6])
    const finalWeights = weights(workbench.runs.checkpoints(first.run.id).at(-1)!.path)
    const losses = first.losses
    const valLosses = series(first.run.id, 'valLoss')

    const resumed = await train({ resume: { runId: first.run.id, step: 3 } })
    expect(resumed.run.id).toBe(first.run.id)
    expect(resumed.job.state, resumed.job.error ?? '').toBe('done')
    expect(resumed.losses).toEqual(losses)
    expect(series(first.run.id, 'valLoss')).toEqual(valLosses)
    const again = weights(workbench.runs.checkpoints(first.run.id).at(-1)!.path)
    for (const [name, t] of finalWeights) expect(Buffer.from(again.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true)
    expect(workbench.jobs.logs(resumed.job.id).some((l) => /Resuming from .*step-3 at step 3/.test(l.text))).toBe(true)
  })

  it('refuses configs it cannot honour, naming the problem', async () => {
    const cases: [unknown, RegExp][] = [
      [{ ...small(), learningRate: 1 }, /Unrecognized key.*learningRate/],
      [small({ model: { nLayer: 2, nHead: 3, nEmbd: 32, nCtx: 32 } }), /nEmbd must be divisible by nHead/],
      [small({ parallel: { tensor: 2, pipeline: 1 } }), /data parallel only/],
      [small({ batchSize: 3, devices: ['cpu:0', 'cpu:1'] }), /batchSize 3 must split evenly over 2 device/]
    ]
    for (const [config, message] of cases) {
      const reply = await workbench.call('jobs.start', { kind: 'train', params: { config } as TrainParams })
      expect(reply.ok).toBe(false)
      if (!reply.ok) expect(reply.error.message).toMatch(message)
    }
  })

  it('refuses a truncated token shard, naming the file, and starts nothing', async () => {
    const sample = workbench.datasets.list().find((d) => /sample/.test(d.name))!
    const damaged = path.join(tempDir(), 'tokens')
    fs.cpSync(sample.path, damaged, { recursive: true })
    fs.truncateSync(path.join(damaged, 'train.bin'), 1001)
    const before = workbench.jobs.list().length
    const reply = await workbench.call('jobs.start', { kind: 'train', params: { config: small({ dataset: damaged }) } as TrainParams })
    expect(reply.ok).toBe(false)
    if (!reply.ok) expect(reply.error.message).toMatch(/train\.bin.*has 1001 bytes.*re-run the tokenize step/)
    expect(workbench.jobs.list().length).toBe(before)
  })

  it('refuses to resume from a checkpoint that is not kept', async () => {
    const reply = await workbench.call('jobs.start', { kind: 'train', params: { resume: { runId: 1, step: 2 } } })
    expect(reply.ok).toBe(false)
    if (!reply.ok) expect(reply.error.message).toMatch(/no kept checkpoint at step 2 \(kept steps: /)
  })
})
