// Evaluating a run's checkpoints during training, through the real Workbench: a tiny run saving a
// checkpoint every two steps is watched on copa (task data from the local stand-in for the Hub);
// each checkpoint it saves becomes an eval job, one at a time, whose results land in the matrix
// under the run's checkpoint. The watch survives a host restart, and after `evals.unwatch` a
// resumed run saves checkpoints that nobody evaluates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import type { EvalWatch } from '../../src/shared/eval-watch'
import type { Job, TrainParams } from '../../src/shared/jobs'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { startFixtureServer, type FixtureServer } from './fixture-server'

let server: FixtureServer
const root = tempDir('gptw-eval-watch-')
let w: Workbench

const open = () => new Workbench({ workspaceRoot: root, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })

beforeAll(async () => {
  server = await startFixtureServer()
  w = open()
})
afterAll(async () => {
  await w.close()
  await server.close()
})

const tiny: TrainConfigInput = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 },
  batchSize: 2,
  steps: 6,
  optimizer: { lr: 2e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 2, keepLast: 10 },
  backend: 'wasm',
  seed: 3
}

async function call<T>(reply: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> {
  const r = await reply
  if (!r.ok) throw new Error(r.error.message)
  return r.value
}

const evalJobs = (): Job[] =>
  w.jobs
    .list()
    .filter((j) => j.kind === 'eval')
    .sort((a, b) => a.id - b.id)
const watchOf = (runId: number): EvalWatch | undefined => w.evalWatch.list().find((x) => x.runId === runId)

describe('evaluating a run during training', () => {
  it("evaluates a watched run's checkpoints as they are saved, one eval job at a time", async () => {
    const events: EvalWatch[][] = []
    w.events.on('event', (e) => e.event === 'eval-watch' && events.push(e.data))
    const train = await call(w.call('jobs.start', { kind: 'train', params: { config: tiny } as TrainParams }))
    const run = w.runs.byJob(train.id)!
    const watch = await call(w.call('evals.watch', { runId: run.id, tasks: ['copa'], limit: 2, batchSize: 4, backend: 'wasm', sources: server.sources }))
    expect(watch).toMatchObject({ runId: run.id, settings: { tasks: ['copa'], numFewshot: 0, limit: 2 }, active: null, pendingStep: null, last: null })
    expect(await call(w.call('evals.watches', undefined))).toEqual([watch])

    const trained = await w.supervisor.waitForExit(train.id)
    expect(trained.state, trained.error ?? '').toBe('done')
    const saved = w.runs.checkpoints(run.id)
    expect(saved.map((c) => c.step)).toEqual([2, 4, 6])
    await waitFor(
      () => {
        const x = watchOf(run.id)
        return x && !x.active && x.pendingStep === null && x.last?.step === 6 && x.last.state !== 'running'
      },
      50_000,
      'the eval job of the last checkpoint'
    )

    const jobs = evalJobs()
    for (const j of jobs) expect(j.state, j.error ?? '').toBe('done')
    // One eval job per evaluated checkpoint, never two at once for the run.
    const evaluated = jobs.map((j) => (j.params as { checkpoints: { dir: string }[] }).checkpoints.map((c) => c.dir))
    for (const dirs of evaluated) expect(dirs).toHaveLength(1)
    const steps = evaluated.map(([dir]) => saved.find((c) => c.path === dir)!.step)
    expect(steps[0]).toBe(2)
    expect(steps.at(-1)).toBe(6)
    expect(new Set(steps).size).toBe(steps.length)
    for (let i = 1; i < jobs.length; i++) expect(jobs[i].startedAt!).toBeGreaterThanOrEqual(jobs[i - 1].endedAt!)

    // Each evaluated checkpoint has its copa cell in the matrix, named after the run.
    const { rows, failures } = w.evals.matrix({ checkpoints: saved.map((c) => c.path) })
    expect(failures).toEqual([])
    expect(rows.map((r) => `${r.checkpoint} ${r.task} ${r.metric} ${r.documents}`).sort()).toEqual(evaluated.map(([dir]) => `${dir} copa acc 2`).sort())
    const labels = jobs.map((j) => (j.params as { checkpoints: { label: string }[] }).checkpoints[0].label)
    expect(labels).toEqual(steps.map((s) => `run ${run.id} (custom config) step ${s}`))

    // Both logs say what was started and why; a checkpoint saved while its run's eval job ran waited.
    const trainLog = w.jobs.logs(train.id).map((l) => l.text)
    expect(trainLog.some((t) => /Each checkpoint this run saves from now on gets an eval job \(copa, 0-shot, limit 2\)/.test(t))).toBe(true)
    for (const [i, j] of jobs.entries()) {
      expect(trainLog).toContain(`Eval job ${j.id} started on checkpoint step ${steps[i]}, because this run is watched (copa, 0-shot, limit 2).`)
      expect(w.jobs.logs(j.id)[0].text).toMatch(new RegExp(`^Started because run ${run.id} is watched \\(evals\\.watch\\): evaluating its checkpoint at step ${steps[i]}, `))
    }
    if (steps.length < 3) expect(trainLog.some((t) => /^Checkpoint step [46] waits for eval job \d+/.test(t))).toBe(true)
    if (!steps.includes(4)) expect(trainLog.some((t) => /step 4, which was waiting, is skipped/.test(t))).toBe(true)
    // Clients are told which checkpoint is being evaluated (the Evaluate view adds it as a column).
    expect(
      events
        .flat()
        .filter((x) => x.runId === run.id && x.active)
        .map((x) => x.active!.checkpoint)
    ).toContain(saved[0].path)
  }, 90_000)

  it('keeps the watch across a host restart; after unwatch, saved checkpoints start nothing', async () => {
    const [watched] = w.evalWatch.list()
    await w.close()
    w = open()
    const after = await call(w.call('evals.watches', undefined))
    expect(after).toEqual([{ ...watched, active: null, pendingStep: null }])
    expect(after[0].last).toMatchObject({ step: 6, state: 'done', label: 'done' })

    const before = evalJobs().length
    expect(await call(w.call('evals.unwatch', { runId: watched.runId }))).toEqual([])
    const resumed = await call(w.call('jobs.start', { kind: 'train', params: { resume: { runId: watched.runId, step: 2 } } as TrainParams }))
    const done = await w.supervisor.waitForExit(resumed.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect(w.jobs.logs(resumed.id).some((l) => /Resuming from .*step-2/.test(l.text))).toBe(true)
    expect(evalJobs()).toHaveLength(before)
    expect(await call(w.call('evals.watches', undefined))).toEqual([])
  }, 60_000)

  it('refuses a run that does not exist, unknown tasks, and unwatching a run not watched', async () => {
    const runId = w.runs.list()[0].id
    const message = async (method: 'evals.watch' | 'evals.unwatch', input: unknown) => {
      const r = await w.call(method, input)
      expect(r.ok).toBe(false)
      return r.ok ? '' : r.error.message
    }
    expect(await message('evals.watch', { runId: 999, tasks: ['copa'] })).toBe('Run 999 does not exist.')
    expect(await message('evals.watch', { runId, tasks: ['copa', 'nope'] })).toMatch(/Unknown eval task "nope"/)
    expect(await message('evals.watch', { runId, tasks: ['prost'], numFewshot: 2 })).toMatch(/prost is zero-shot only/)
    expect(await message('evals.watch', { runId, tasks: [] })).toMatch(/evals\.watch: tasks: name at least one task/)
    expect(await message('evals.watch', { runId, tasks: ['copa'], checkpoints: ['/x'] })).toMatch(/evals\.watch: .*Unrecognized key.*checkpoints/)
    expect(await message('evals.unwatch', { runId })).toBe(`Run ${runId} is not watched: there is nothing to stop.`)
    expect(w.evalWatch.list()).toEqual([])
  })
})
