// runs.overlay (issue 14, items 3 and 4) through the real Workbench and train workers: a resume
// is recorded with its checkpoint step, engine, backend and devices once the worker loaded the
// checkpoint, the rows it took off the run's line are kept as its branch (nothing lost), a resume
// whose checkpoint fails to load records nothing, and the eval scores of the run's checkpoints
// come back at their steps (a pruned checkpoint's too; other runs' never).
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TrainConfig, type TrainConfigInput } from '../src/shared/config/train'
import type { TrainParams } from '../src/shared/jobs'
import type { Workbench } from '../src/main/services/workbench'
import { tempDir } from './helpers'
import { closeWorkbenches, openWorkbench } from './workbench-fixture'

afterEach(closeWorkbenches)

const small: TrainConfigInput = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 },
  batchSize: 2,
  steps: 6,
  optimizer: { lr: 1e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 3, keepLast: 5 },
  backend: 'wasm',
  seed: 3
}

async function train(wb: Workbench, params: unknown) {
  const reply = await wb.call('jobs.start', { kind: 'train', params: params as TrainParams })
  if (!reply.ok) throw new Error(reply.error.message)
  return wb.supervisor.waitForExit(reply.value.id)
}

async function overlay(wb: Workbench, id: number) {
  const reply = await wb.call('runs.overlay', { id })
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.value
}

describe('runs.overlay', () => {
  it('records a resume and keeps the rows it took off the line as its branch', async () => {
    const wb = openWorkbench(tempDir('gptw-overlay-'))
    const first = await train(wb, { config: small })
    expect(first.state, first.error ?? '').toBe('done')
    const run = wb.runs.byJob(first.id)!
    expect((await overlay(wb, run.id)).resumes).toEqual([])
    const before = wb.runs.metrics(run.id).filter((m) => m.step > 3)
    expect(new Set(before.map((m) => m.step))).toEqual(new Set([4, 5, 6]))

    const started = Date.now()
    const resumed = await train(wb, { resume: { runId: run.id, step: 3 } })
    expect(resumed.state, resumed.error ?? '').toBe('done')
    const o = await overlay(wb, run.id)
    expect(o.resumes).toHaveLength(1)
    const r = o.resumes[0]
    expect(r).toMatchObject({ runId: run.id, jobId: resumed.id, fromStep: 3, engine: 'embedded', devices: run.config.devices })
    expect(r.devices).toEqual(['cpu:0'])
    expect(r.backend).toMatch(/^wasm \(/)
    expect(r.startedAt).toBeGreaterThanOrEqual(started)
    expect(r.loadedAt).toBeGreaterThanOrEqual(r.startedAt)
    // The branch holds exactly the rows of steps 4-6 from before the resume, every metric of them.
    expect(o.branches.map((b) => b.resumeId)).toEqual([r.id])
    const branch = o.branches[0].series
    for (const m of before) {
      const s = branch[m.name]
      expect(s, m.name).toBeDefined()
      expect(s.value[s.step.indexOf(m.step)], `${m.name} at ${m.step}`).toBe(m.value)
    }
    expect(Object.values(branch).reduce((n, s) => n + s.step.length, 0)).toBe(before.length)
    // The line itself holds steps 1-6 once each: the resumed job's 4-6 replaced the old ones.
    expect(
      wb.runs
        .metrics(run.id)
        .filter((m) => m.name === 'loss')
        .map((m) => m.step)
    ).toEqual([1, 2, 3, 4, 5, 6])
    expect(wb.runs.metrics(run.id).find((m) => m.name === 'elapsed' && m.step === 6)!.ts).toBeGreaterThanOrEqual(r.loadedAt!)

    // A resume whose checkpoint fails to load resumed nothing: no event, no branch, the line kept.
    const line = wb.runs.metrics(run.id)
    fs.writeFileSync(path.join(wb.runs.checkpoints(run.id).find((c) => c.step === 3)!.path, 'optimizer.safetensors'), Buffer.alloc(64, 0xab))
    const failed = await train(wb, { resume: { runId: run.id, step: 3 } })
    expect(failed.state).toBe('failed')
    const after = await overlay(wb, run.id)
    expect(after.resumes.map((x) => x.id)).toEqual([r.id])
    expect(after.branches).toEqual(o.branches)
    expect(wb.runs.metrics(run.id)).toEqual(line)
  })

  it("returns the scores of the run's checkpoints at their steps, a pruned one's too, no other run's", async () => {
    const wb = openWorkbench(tempDir('gptw-overlay-'))
    const one = wb.runs.create('one', TrainConfig.parse(small), '/data/none', (id) => path.join(wb.workspace.runsDir, String(id)))
    const ten = [2, 3, 4, 5, 6, 7, 8, 9, 10].map(() => wb.runs.create('other', one.config, '/data/none', (id) => path.join(wb.workspace.runsDir, String(id)))).at(-1)!
    expect(ten.id).toBe(10)
    const ckpt = (runDir: string, step: number) => path.join(runDir, 'checkpoints', `step-${step}`)
    const record = (checkpoint: string, value: number, stderr: number | null) =>
      wb.evals.results.record({
        jobId: null,
        checkpoint,
        fingerprint: createHash('sha256').update(checkpoint).digest('hex'),
        task: 'copa',
        numFewshot: 0,
        limit: 2,
        result: { task: 'copa', version: 0, numFewshot: 0, documents: 2, metrics: { acc: { value, stderr, higherIsBetter: true } } },
        error: null,
        samples: []
      })
    record(ckpt(one.dir, 3), 0.5, 0.5)
    record(ckpt(one.dir, 6), 1, null) // never registered as a checkpoint row (pruned, say)
    record(ckpt(ten.dir, 3), 0.25, 0.1) // run 10: its folder starts with run 1's name
    record(path.join(one.dir, 'elsewhere', 'step-9'), 0.75, 0.1) // not under checkpoints/
    const o = await overlay(wb, one.id)
    expect(o.evals.map((e) => [e.checkpoint, e.step, e.task, e.metric, e.value, e.stderr, e.higherIsBetter])).toEqual([
      [ckpt(one.dir, 3), 3, 'copa', 'acc', 0.5, 0.5, true],
      [ckpt(one.dir, 6), 6, 'copa', 'acc', 1, null, true]
    ])
    expect((await overlay(wb, ten.id)).evals.map((e) => e.step)).toEqual([3])
    expect(await wb.call('runs.overlay', { id: 99 })).toEqual({ ok: false, error: { code: 'not_found', message: 'Run 99 does not exist.' } })
  })
})
