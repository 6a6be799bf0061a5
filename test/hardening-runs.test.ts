// Resumes that lose nothing (issue 13, F2, F3, F6 and the checkpoint a kill left without a row):
// one active job per run, tmp folders of live writers kept by pruning, metrics dropped only once
// the checkpoint has loaded, orphan checkpoint folders registered at start, and a copied
// workspace that resumes into its own folders.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../src/shared/config/train'
import type { TrainParams } from '../src/shared/jobs'
import { pruneCheckpoints } from '../src/core/engine/checkpoint'
import { openDatabase } from '../src/main/services/store/database'
import { DatasetsRepo } from '../src/main/services/store/datasets-repo'
import { EvalResultsRepo } from '../src/main/services/store/eval-results-repo'
import { GenerationsRepo } from '../src/main/services/generation-repo'
import { MIGRATIONS } from '../src/main/services/store/migrations'
import { RunsRepo } from '../src/main/services/store/runs-repo'
import { Workbench } from '../src/main/services/workbench'
import { tempDir } from './helpers'
import { closeWorkbench, closeWorkbenches, openWorkbench } from './workbench-fixture'

afterEach(closeWorkbenches)
const workbench = openWorkbench
const close = closeWorkbench

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
  const job = await wb.supervisor.waitForExit(reply.value.id)
  expect(job.state, job.error ?? '').toBe('done')
  return { job, run: wb.runs.byJob(job.id)! }
}

async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

/** Every file and folder under `root` with its size and modification time. */
function listing(root: string): Record<string, string> {
  const out: Record<string, string> = {}
  const visit = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name)
      const s = fs.statSync(p)
      out[path.relative(root, p)] = `${s.size} ${s.mtimeMs}`
      if (e.isDirectory()) visit(p)
    }
  }
  visit(root)
  return out
}

describe('resumes', () => {
  it('accepts one of two resumes of a run started at once and refuses the other, naming the job', async () => {
    const wb = workbench(tempDir('gptw-runs-'))
    const { run } = await train(wb, { config: small })
    const resume = () => wb.call('jobs.start', { kind: 'train', params: { resume: { runId: run.id, step: 3 } } })
    const replies = await Promise.all([resume(), resume()])
    const accepted = replies.filter((r) => r.ok)
    const refused = replies.filter((r) => !r.ok)
    expect(accepted).toHaveLength(1)
    expect(refused).toHaveLength(1)
    const jobId = accepted[0].ok ? accepted[0].value.id : -1
    if (!refused[0].ok)
      expect(refused[0].error).toEqual({ code: 'conflict', message: expect.stringMatching(new RegExp(`Run ${run.id} is already being trained by job ${jobId} \\((queued|running)\\)`)) })
    expect((await wb.supervisor.waitForExit(jobId)).state).toBe('done')
    expect(wb.runs.checkpoints(run.id).map((c) => c.step)).toEqual([3, 6])
  })

  it('keeps the metrics when a checkpoint fails to load (a corrupt optimizer state)', async () => {
    const wb = workbench(tempDir('gptw-runs-'))
    const { run } = await train(wb, { config: small })
    const before = wb.runs.metrics(run.id)
    expect(new Set(before.map((m) => m.step))).toEqual(new Set([1, 2, 3, 4, 5, 6]))
    const optimizer = path.join(wb.runs.checkpoints(run.id)[0].path, 'optimizer.safetensors')
    fs.writeFileSync(optimizer, Buffer.alloc(64, 0xab))
    const reply = await wb.call('jobs.start', { kind: 'train', params: { resume: { runId: run.id, step: 3 } } })
    if (!reply.ok) throw new Error(reply.error.message)
    const job = await wb.supervisor.waitForExit(reply.value.id)
    expect(job.state).toBe('failed')
    expect(job.error).toContain('optimizer.safetensors')
    expect(wb.runs.metrics(run.id).length).toBe(before.length)
    expect(wb.runs.metrics(run.id)).toEqual(before)
  })

  it('registers at start a finished checkpoint folder whose row a kill left unwritten', async () => {
    const root = tempDir('gptw-runs-')
    const wb = workbench(root)
    const { run } = await train(wb, { config: small })
    const kept = wb.runs.checkpoints(run.id)
    wb.db.prepare(`DELETE FROM checkpoints WHERE run_id = ? AND step = 6`).run(run.id)
    await close(wb)
    const again = workbench(root)
    expect(again.runs.checkpoints(run.id).map((c) => [c.step, c.path, c.bytes])).toEqual(kept.map((c) => [c.step, c.path, c.bytes]))
  })
})

describe('checkpoint leftovers', () => {
  it('prunes the tmp and old folders of processes that are gone, never those of a live one', async () => {
    const root = tempDir('gptw-prune-')
    const dead = await deadPid()
    const names = [`.step-5.tmp-${process.pid}-live1234`, `.step-6.tmp-${dead}-dead1234`, `.step-7.old-${dead}-dead5678`, 'step-1', 'step-2']
    for (const n of names) fs.mkdirSync(path.join(root, n))
    expect(pruneCheckpoints(root, 1)).toEqual([1])
    expect(fs.readdirSync(root).sort()).toEqual([`.step-5.tmp-${process.pid}-live1234`, 'step-2'])
  })
})

describe('paths relative to the workspace', () => {
  it('resumes a run in a copied workspace without touching the original', async () => {
    const original = tempDir('gptw-orig-')
    const wb = workbench(original)
    const { run } = await train(wb, { config: small })
    await close(wb)
    const copy = path.join(tempDir('gptw-copy-'), 'ws')
    fs.cpSync(original, copy, { recursive: true })
    const before = listing(original)

    const other = workbench(copy)
    const resumed = await train(other, { resume: { runId: run.id, step: 3 } })
    const checkpoints = other.runs.checkpoints(run.id)
    await close(other)
    expect(listing(original)).toEqual(before)
    expect((resumed.job.params as { runDir: string }).runDir).toBe(path.join(copy, 'runs', String(run.id)))
    expect(checkpoints.map((c) => path.relative(copy, c.path))).toEqual([3, 6].map((s) => path.join('runs', String(run.id), 'checkpoints', `step-${s}`)))
  })

  it('migrates the absolute paths of an older database, also those of the folder it was copied from', () => {
    const root = tempDir('gptw-migrate-')
    const elsewhere = '/home/someone/.gpt-workbench'
    const file = path.join(root, 'workbench.db')
    const old = openDatabase(file, MIGRATIONS.slice(0, 5))
    old
      .prepare(`INSERT INTO runs (id, name, config, dir, dataset_dir, created_at) VALUES (1, 'a', '{}', ?, ?, 0), (2, 'b', '{}', ?, '/data/tokens', 0)`)
      .run(`${elsewhere}/runs/1`, `${elsewhere}/datasets/sample`, path.join(root, 'runs', '2'))
    old.prepare(`INSERT INTO checkpoints (run_id, step, path, bytes, created_at) VALUES (1, 3, ?, 1, 0)`).run(`${elsewhere}/runs/1/checkpoints/step-3`)
    old.prepare(`INSERT INTO datasets (name, kind, path, created_at) VALUES ('s', 'tokens', ?, 0), ('t', 'tokens', '/data/tokens', 0)`).run(path.join(root, 'datasets', 'mine'))
    old.close()

    const db = openDatabase(file)
    try {
      expect(db.prepare(`SELECT dir, dataset_dir FROM runs ORDER BY id`).all()).toEqual([
        { dir: path.join('runs', '1'), dataset_dir: path.join('datasets', 'sample') },
        { dir: path.join('runs', '2'), dataset_dir: '/data/tokens' }
      ])
      expect(db.prepare(`SELECT path FROM checkpoints`).pluck().all()).toEqual([path.join('runs', '1', 'checkpoints', 'step-3')])
      expect(db.prepare(`SELECT path FROM datasets ORDER BY id`).pluck().all()).toEqual([path.join('datasets', 'mine'), '/data/tokens'])
      const runs = new RunsRepo(db)
      expect(runs.get(1)).toMatchObject({ dir: path.join(root, 'runs', '1'), datasetDir: path.join(root, 'datasets', 'sample') })
      expect(runs.checkpoints(1)[0].path).toBe(path.join(root, 'runs', '1', 'checkpoints', 'step-3'))
      expect(new DatasetsRepo(db).byPath(path.join(root, 'datasets', 'mine'))?.name).toBe('s')
    } finally {
      db.close()
    }
  })

  it('stores the checkpoints of eval results, eval failures and generations relative too, and reads them back under a copy', () => {
    const root = tempDir('gptw-migrate7-')
    const file = path.join(root, 'workbench.db')
    const inside = path.join(root, 'runs', '1', 'checkpoints', 'step-3')
    const outside = '/elsewhere/runs/9/checkpoints/step-1'
    const old = openDatabase(file, MIGRATIONS.slice(0, 6))
    const result = old.prepare(`INSERT INTO eval_results (checkpoint, fingerprint, task, metric, value, num_fewshot, created_at) VALUES (?, ?, 'lambada', 'acc', 0.5, 0, 0)`)
    result.run(inside, 'fp-in')
    result.run(outside, 'fp-out')
    old.prepare(`INSERT INTO eval_failures (fingerprint, task, num_fewshot, checkpoint, message, created_at) VALUES ('fp-in', 'piqa', 0, ?, 'offline', 0)`).run(inside)
    old.prepare(`INSERT INTO generations (checkpoint, prompt, params, output, state, created_at) VALUES (?, 'Call me', '{}', '', 'done', 0)`).run(inside)
    old.close()

    const db = openDatabase(file)
    try {
      expect(db.prepare(`SELECT checkpoint FROM eval_results ORDER BY fingerprint`).pluck().all()).toEqual([path.join('runs', '1', 'checkpoints', 'step-3'), outside])
      expect(db.prepare(`SELECT checkpoint FROM eval_failures`).pluck().all()).toEqual([path.join('runs', '1', 'checkpoints', 'step-3')])
      expect(db.prepare(`SELECT checkpoint FROM generations`).pluck().all()).toEqual([path.join('runs', '1', 'checkpoints', 'step-3')])
    } finally {
      db.close()
    }

    // A copy of the workspace answers with its own folders, and queries by them find the rows.
    const copy = path.join(tempDir('gptw-copy7-'), 'ws')
    fs.cpSync(root, copy, { recursive: true })
    const copied = openDatabase(path.join(copy, 'workbench.db'))
    try {
      const ownCheckpoint = path.join(copy, 'runs', '1', 'checkpoints', 'step-3')
      const evals = new EvalResultsRepo(copied)
      expect(evals.results({ checkpoints: [ownCheckpoint] }).map((r) => [r.checkpoint, r.fingerprint])).toEqual([[ownCheckpoint, 'fp-in']])
      expect(evals.results({ checkpoints: [outside] }).map((r) => r.fingerprint)).toEqual(['fp-out'])
      expect(evals.failures({ checkpoints: [ownCheckpoint] }).map((f) => [f.checkpoint, f.task])).toEqual([[ownCheckpoint, 'piqa']])
      const generations = new GenerationsRepo(copied)
      expect(generations.list(undefined, 10).map((g) => g.checkpoint)).toEqual([ownCheckpoint])
      const made = generations.create(ownCheckpoint, 'Ishmael', { maxTokens: 1 } as never, null, null)
      expect(copied.prepare(`SELECT checkpoint FROM generations WHERE id = ?`).pluck().get(made.id)).toBe(path.join('runs', '1', 'checkpoints', 'step-3'))
      expect(made.checkpoint).toBe(ownCheckpoint)
    } finally {
      copied.close()
    }
  })
})
