// Honest job states (issue 15): an eval job in which every task failed ends failed with its causes
// grouped, one that lost some tasks ends done with a "partly failed" outcome and counts, and its
// last progress line says how it ended rather than the step it was on.
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { EvalConfigInput } from '../src/shared/config/eval'
import type { Job } from '../src/shared/jobs'
import type { Workbench } from '../src/main/services/workbench'
import { tempDir, waitFor } from './helpers'
import { closeWorkbench, closeWorkbenches, openWorkbench } from './workbench-fixture'
import { startFixtureServer, type FixtureServer } from './eval/fixture-server'
import { randomCheckpoint } from './eval/random-checkpoint'
import { randomCheckpoint as generationCheckpoint } from './generate/fixtures'

let server: FixtureServer
beforeAll(async () => {
  server = await startFixtureServer()
})
afterEach(closeWorkbenches)
afterAll(() => server.close())

function checkpoint(seed: number): string {
  const dir = path.join(tempDir('gptw-fh-ckpt-'), `step-${seed}`)
  randomCheckpoint(dir, { seed, nCtx: 64 })
  return dir
}

async function evaluate(w: Workbench, c: Partial<EvalConfigInput>): Promise<Job> {
  const reply = await w.call('jobs.start', { kind: 'eval', params: { checkpoints: [], tasks: [], batchSize: 4, bootstrapIters: 10, backend: 'wasm', ...c } })
  if (!reply.ok) throw new Error(reply.error.message)
  return w.supervisor.waitForExit(reply.value.id)
}

describe('honest eval job states', () => {
  it('an eval with no network (an unreachable data host and mirror) ends failed, one line per cause with its count', async () => {
    const w = openWorkbench()
    // port 9 (discard) on loopback: nothing listens, the connection is refused at once
    const offline = { huggingfaceBase: 'http://127.0.0.1:9/hf', mirrors: Object.fromEntries(Object.keys(server.sources.mirrors).map((o) => [o, 'http://127.0.0.1:9/mirror'])), verifyChecksums: false }
    const job = await evaluate(w, { checkpoints: [checkpoint(1), checkpoint(2)], tasks: ['copa', 'lambada', 'wic'], sources: offline })
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/^All 6 task runs failed/)
    // three tasks on two checkpoints: three causes (one per task's data), each counted twice, not six lines
    const causes = job.error!.split('\n').slice(1)
    expect(causes).toHaveLength(3)
    for (const c of causes) expect(c).toMatch(/^2 × .*(127\.0\.0\.1:9|could not reach|Could not reach)/)
    expect(job.outcome).toEqual({ total: 6, failed: 6, unit: 'task runs', errors: expect.any(Array) })
    expect(job.progress).toBe(0)
    expect(job.outcome!.errors.map((e) => e.count)).toEqual([2, 2, 2])
    expect(job.progressText).not.toMatch(/^preparing/)
    expect(job.progressText).toMatch(/failed/)
    // the matrix still has a failure for every cell
    expect(w.evals.matrix({ jobId: job.id }).failures).toHaveLength(6)
  })

  it('an eval where some tasks failed ends done, partly failed, with counts', async () => {
    const w = openWorkbench()
    const missing = '/hf/api/datasets/aps/super_glue/parquet/wic/validation'
    server.missing.add(missing)
    try {
      const job = await evaluate(w, { checkpoints: [checkpoint(3)], tasks: ['wic', 'rte'], sources: server.sources })
      expect(job.state).toBe('done')
      expect(job.outcome).toMatchObject({ total: 2, failed: 1 })
      expect(job.outcome!.errors).toHaveLength(1)
      expect(job.outcome!.errors[0]).toMatchObject({ count: 1, message: expect.stringMatching(/wic: .*404/) })
      expect(job.progressText).toMatch(/partly failed: 1 of 2 task runs failed/)
      expect(job.progress).toBe(0.5)
    } finally {
      server.missing.delete(missing)
    }
  })

  it('an eval that ran everything has no failures in its outcome, and old rows without one read as null', async () => {
    const w = openWorkbench()
    const job = await evaluate(w, { checkpoints: [checkpoint(4)], tasks: ['copa'], sources: server.sources })
    expect(job.state).toBe('done')
    expect(job.outcome).toEqual({ total: 1, failed: 0, unit: 'task runs', errors: [] })
    expect(job.progress).toBe(1)
    expect(job.progressText).toMatch(/^done: 1 task run/)
    const old = w.supervisor.start({ kind: 'tokenize', params: { input: '/nonexistent/file.txt' } })
    expect((await w.supervisor.waitForExit(old.id)).outcome).toBeNull()
  })
})

describe('a host restart', () => {
  it('unloads a loaded model (done, not "failed: killed by SIGTERM") and says a stopped training was interrupted', async () => {
    const root = tempDir('gptw-fh-restart-')
    const w = openWorkbench(root)
    const ckpt = await generationCheckpoint(tempDir('gptw-fh-gen-'), 'model', 1)
    const loaded = await w.call('generate.load', { checkpoint: ckpt })
    if (!loaded.ok) throw new Error(loaded.error.message)
    await waitFor(() => w.generation.models().find((m) => m.state === 'ready'), 60_000, 'the model to load')
    const train = await w.call('jobs.start', {
      kind: 'train',
      params: { config: { model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 }, batchSize: 2, steps: 100_000, eval: { interval: 0 }, backend: 'wasm' } }
    })
    if (!train.ok) throw new Error(train.error.message)
    await waitFor(() => w.jobs.get(train.value.id)!.progress > 0, 60_000, 'training to start')
    await closeWorkbench(w)
    const after = openWorkbench(root)
    const model = after.jobs.get(loaded.value.jobId)!
    expect(model.state).toBe('done')
    expect(model.error).toBeNull()
    expect(model.progressText).toBe('Unloaded: the host stopped.')
    const stopped = after.jobs.get(train.value.id)!
    expect(stopped.state).toBe('failed')
    expect(stopped.error).toBe('Interrupted: the host stopped while this job was running. Start it again (a run resumes from its last checkpoint).')
    expect(stopped.error).not.toMatch(/SIGTERM/)
  })
})
