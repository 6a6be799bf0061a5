// Eval jobs through the real services: the eval worker process, its IPC request cache in the
// workspace's SQLite, task data from a local stand-in for the download hosts, and random GPT
// checkpoints. A re-run asks the model nothing (the worker counts what it sends to the model); a
// worker killed half-way leaves its answers in the cache and the next run finishes from there
// with the results of an uninterrupted run.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EvalConfigInput } from '../../src/shared/config/eval'
import type { Job } from '../../src/shared/jobs'
import type { EvalJobSummary } from '../../src/core/eval/job'
import { PAUSED_LOG_LINE } from '../../src/core/job-context'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { startFixtureServer, type FixtureServer } from './fixture-server'
import { randomCheckpoint } from './random-checkpoint'

let server: FixtureServer
const open: Workbench[] = []

beforeAll(async () => {
  server = await startFixtureServer()
})
afterAll(async () => {
  for (const w of open) await w.close()
  await server.close()
})

function workbench(): Workbench {
  const w = new Workbench({ workspaceRoot: tempDir('gptw-eval-job-'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(w)
  return w
}

function checkpoint(seed: number, shape: { nEmbd?: number; nLayer?: number; nCtx?: number } = {}): string {
  const dir = path.join(tempDir('gptw-eval-ckpt-'), `step-${seed}`)
  randomCheckpoint(dir, { seed, nCtx: 64, ...shape })
  return dir
}

const config = (over: Partial<EvalConfigInput>): EvalConfigInput => ({ checkpoints: [], tasks: [], batchSize: 4, bootstrapIters: 100, backend: 'wasm', sources: server.sources, ...over })

async function start(w: Workbench, c: EvalConfigInput): Promise<Job> {
  const reply = await w.call('jobs.start', { kind: 'eval', params: c })
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.value
}

async function evaluate(w: Workbench, c: EvalConfigInput): Promise<{ job: Job; summary: EvalJobSummary }> {
  const job = await w.supervisor.waitForExit((await start(w, c)).id)
  expect(job.state, job.error ?? '').toBe('done')
  return { job, summary: job.result as EvalJobSummary }
}

/** The matrix as it stands now (a later evaluation of the same cell replaces it). */
const values = (w: Workbench, checkpoints: string[]) => Object.fromEntries(w.evals.matrix({ checkpoints }).rows.map((r) => [`${r.checkpoint} ${r.task} ${r.metric}`, r.value]))

describe('eval jobs', () => {
  it('evaluates two checkpoints on three tasks, stores results and samples, and a re-run asks the model nothing', async () => {
    const w = workbench()
    const a = checkpoint(1)
    const b = checkpoint(2)
    const tasks = ['copa', 'hellaswag', 'lambada']
    const first = await evaluate(w, config({ checkpoints: [a, b], tasks }))
    const firstValues = values(w, [a, b])
    expect(first.summary.failures).toEqual([])
    const computed = first.summary.checkpoints.map((c) => c.computed)
    expect(first.summary.checkpoints.map((c) => c.cached)).toEqual([0, 0])
    // copa: 2 documents x 2 choices; hellaswag: 1 x 4; lambada: 2 x 1
    expect(computed).toEqual([10, 10])
    expect(w.evals.cache.count()).toBe(20)
    expect(first.summary.checkpoints[0].fingerprint).not.toBe(first.summary.checkpoints[1].fingerprint)

    const { rows, failures } = w.evals.matrix({ checkpoints: [a, b] })
    expect(failures).toEqual([])
    expect(rows.map((r) => `${path.basename(r.checkpoint)} ${r.task} ${r.metric}`).sort()).toEqual(
      ['copa acc', 'hellaswag acc', 'hellaswag acc_norm', 'lambada acc', 'lambada ppl'].flatMap((m) => [`step-1 ${m}`, `step-2 ${m}`]).sort()
    )
    // each value is what its samples say: copa's acc is the mean of the per-document acc
    for (const r of rows.filter((x) => x.task === 'copa')) {
      const page = await w.call('evals.samples', { fingerprint: r.fingerprint, task: 'copa', numFewshot: 0 })
      if (!page.ok) throw new Error(page.error.message)
      expect(page.value.total).toBe(2)
      const accs = page.value.samples.map((s) => s.metrics.acc as number)
      expect(r.value).toBe(accs.reduce((x, y) => x + y, 0) / 2)
      for (const s of page.value.samples) {
        expect(s.prompt).toMatch(/ (because|therefore)$/)
        expect(s.requests).toHaveLength(2)
        const lls = s.results.map((x) => (x as { logprob: number }).logprob)
        expect(s.predictedIndex).toBe(lls.indexOf(Math.max(...lls)))
        expect(s.gold.length).toBeGreaterThan(1)
      }
    }

    const second = await evaluate(w, config({ checkpoints: [a, b], tasks }))
    expect(second.summary.checkpoints.map((c) => c.computed)).toEqual([0, 0])
    expect(second.summary.checkpoints.map((c) => c.cached)).toEqual(computed)
    expect(w.evals.matrix({ jobId: second.job.id }).rows).toHaveLength(10)
    expect(values(w, [a, b])).toEqual(firstValues)
    expect(w.evals.cache.count()).toBe(20)

    // The cache follows the weights, not the path: a copied folder is answered from it.
    const copy = path.join(tempDir('gptw-eval-copy-'), 'copied')
    fs.cpSync(a, copy, { recursive: true })
    const third = await evaluate(w, config({ checkpoints: [copy], tasks }))
    expect(third.summary.checkpoints[0]).toMatchObject({ computed: 0, cached: 10, fingerprint: first.summary.checkpoints[0].fingerprint })

    // noCache neither reads nor writes
    const fresh = await evaluate(w, config({ checkpoints: [a], tasks, noCache: true }))
    expect(fresh.summary.checkpoints[0]).toMatchObject({ computed: 10, cached: 0 })
    expect(w.evals.cache.count()).toBe(20)
  })

  it('reports a task whose data cannot be fetched and runs the others', async () => {
    const w = workbench()
    const missing = '/hf/api/datasets/aps/super_glue/parquet/wic/validation'
    server.missing.add(missing)
    try {
      const { summary, job } = await evaluate(w, config({ checkpoints: [checkpoint(3)], tasks: ['wic', 'rte'] }))
      expect(summary.failures).toHaveLength(1)
      expect(summary.failures[0].task).toBe('wic')
      expect(summary.failures[0].message).toMatch(/wic: .*404/)
      expect(summary.results.map((r) => r.result.task)).toEqual(['rte'])
      const matrix = w.evals.matrix({ jobId: job.id })
      expect(matrix.failures.map((f) => f.task)).toEqual(['wic'])
      expect(matrix.rows.map((r) => `${r.task} ${r.metric}`)).toEqual(['rte acc'])
      expect(w.jobs.logs(job.id).some((l) => l.level === 'warn' && /wic skipped/.test(l.text))).toBe(true)
    } finally {
      server.missing.delete(missing)
    }
  })

  it('serves the task catalogue and checks API inputs', async () => {
    const w = workbench()
    const tasks = await w.call('evals.tasks', undefined)
    if (!tasks.ok) throw new Error(tasks.error.message)
    expect(tasks.value).toHaveLength(39)
    expect(
      tasks.value
        .filter((t) => t.generation)
        .map((t) => t.name)
        .sort()
    ).toEqual(['drop', 'math_algebra', 'wmt14-en-fr'])
    expect(tasks.value.find((t) => t.name === 'lambada')).toMatchObject({
      family: 'lambada',
      split: 'validation',
      metrics: [
        { name: 'ppl', higherIsBetter: false },
        { name: 'acc', higherIsBetter: true }
      ]
    })
    expect(
      tasks.value
        .filter((t) => t.zeroShotOnly)
        .map((t) => t.name)
        .sort()
    ).toEqual(['blimp_adjunct_island', 'prost'])
    const bad = await w.call('evals.samples', { fingerprint: 'abc', task: 'copa' })
    expect(bad.ok ? '' : bad.error.message).toMatch(/evals\.samples: fingerprint: a checkpoint fingerprint is 64 hex digits/)
    const none = await w.call('evals.samples', { fingerprint: 'f'.repeat(64), task: 'copa' })
    expect(none.ok && none.value).toEqual({ total: 0, samples: [] })
    const empty = await w.call('evals.results', {})
    expect(empty.ok && empty.value).toEqual({ rows: [], failures: [] })
  })

  it('refuses unknown tasks, missing folders and few-shot zero-shot tasks before starting', async () => {
    const w = workbench()
    const a = checkpoint(4)
    const bad = async (c: EvalConfigInput) => {
      const reply = await w.call('jobs.start', { kind: 'eval', params: c })
      expect(reply.ok).toBe(false)
      return reply.ok ? '' : reply.error.message
    }
    expect(await bad(config({ checkpoints: [a], tasks: ['copa', 'no_such_task'] }))).toMatch(/Unknown eval task "no_such_task"\. Known tasks: .*copa/)
    expect(await bad(config({ checkpoints: ['/no/such/folder'], tasks: ['copa'] }))).toMatch(/\/no\/such\/folder is not a checkpoint folder: it has no model.safetensors/)
    expect(await bad(config({ checkpoints: [a], tasks: ['prost'], numFewshot: 1 }))).toMatch(/prost is zero-shot only/)
    expect(await bad(config({ checkpoints: [], tasks: ['copa'] }))).toMatch(/checkpoints: name at least one checkpoint folder/)
    expect(w.jobs.list()).toEqual([])
  })

  // Two eval runs over 40 tasks with a kill between: minutes on a busy 2-core machine.
  it('resumes a run whose worker was killed half-way, with the results of an uninterrupted run', { timeout: 300_000 }, async () => {
    const w = workbench()
    // A slower model and every fixture task answered by log-likelihood, one sequence at a time.
    const a = checkpoint(5, { nEmbd: 128, nLayer: 4, nCtx: 256 })
    const tasks = [
      'cola',
      'mnli',
      'mrpc',
      'rte',
      'qnli',
      'qqp',
      'sst',
      'wnli',
      'boolq',
      'cb',
      'copa',
      'record',
      'wic',
      'wsc',
      'piqa',
      'prost',
      'arc_challenge',
      'hellaswag',
      'openbookqa',
      'headqa',
      'mathqa',
      'race',
      'webqs',
      'wsc273',
      'winogrande',
      'anli_r3',
      'mc_taco',
      'blimp_adjunct_island',
      'lambada',
      'sciq',
      'logiqa',
      'qa4mre_2013',
      'ethics_cm',
      'arithmetic_2da',
      'hendrycksTest-abstract_algebra'
    ]
    const c = config({ checkpoints: [a], tasks, batchSize: 1 })
    const job = await start(w, c)
    await waitFor(() => w.evals.cache.count() >= 8, 60_000, 'the first answers in the cache')
    // Pause (the worker stops between chunks), then kill it outright: no chance to tidy up.
    w.supervisor.pause(job.id)
    await waitFor(() => w.jobs.logs(job.id).some((l) => l.text === PAUSED_LOG_LINE), 60_000, 'the worker to stop at a pause point')
    const { pid } = w.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(job.id) as { pid: number }
    process.kill(pid, 'SIGKILL')
    const killed = await w.supervisor.waitForExit(job.id)
    expect(killed.state).toBe('failed')
    expect(killed.error).toMatch(/killed by SIGKILL/)
    const stored = w.evals.cache.count()
    expect(stored).toBeGreaterThanOrEqual(8)

    const resumed = await evaluate(w, c)
    const total = resumed.summary.checkpoints[0].cached + resumed.summary.checkpoints[0].computed
    expect(resumed.summary.checkpoints[0].cached).toBe(stored)
    expect(stored).toBeLessThan(total) // it really was cut half-way
    expect(w.evals.cache.count()).toBe(total)

    const got = values(w, [a])
    const uninterrupted = await evaluate(w, { ...c, noCache: true })
    expect(uninterrupted.summary.checkpoints[0].computed).toBe(total)
    const want = values(w, [a])
    expect(Object.keys(got).length).toBeGreaterThan(40)
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort())
    for (const [k, v] of Object.entries(want)) expect(Math.abs(got[k] - v), k).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(v)))
  })
})
