// Eval jobs on the PyTorch engine through the real services (the eval worker process, its request
// cache in the workspace's SQLite, task data from the local stand-in for the download hosts): the
// cache is keyed by checkpoint content and request, not by engine, so whichever engine answers
// first, a second run on the other engine asks its model nothing and records the same values.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { EvalConfigInput } from '../../src/shared/config/eval'
import type { EvalJobSummary } from '../../src/core/eval/job'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { type FixtureServer, startFixtureServer } from '../eval/fixture-server'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

describeTorch('eval jobs on the PyTorch engine', () => {
  let server: FixtureServer
  let w: Workbench
  const saved = { python: process.env.GPTW_PYTHON, pkg: process.env.GPTW_TORCH_PACKAGE_DIR }

  beforeAll(async () => {
    // the worker finds the interpreter and the package as a user's would: GPTW_PYTHON and the package folder
    process.env.GPTW_PYTHON = PYTHON
    process.env.GPTW_TORCH_PACKAGE_DIR = PACKAGE_DIR
    server = await startFixtureServer()
    w = new Workbench({ workspaceRoot: tempDir('gptw-torch-eval-job-'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  })
  afterAll(async () => {
    await w?.close()
    await server?.close()
    for (const [k, v] of [
      ['GPTW_PYTHON', saved.python],
      ['GPTW_TORCH_PACKAGE_DIR', saved.pkg]
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })

  const tasks = ['copa', 'lambada', 'math_algebra']
  /** Runs a job to done; its matrix values are read at once (a later job's value for the same cell replaces them). */
  const evaluate = async (c: Partial<EvalConfigInput>): Promise<{ id: number; summary: EvalJobSummary; values: Record<string, number> }> => {
    const reply = await w.call('jobs.start', { kind: 'eval', params: { checkpoints: [], tasks, limit: 1, batchSize: 4, bootstrapIters: 100, backend: 'wasm', sources: server.sources, ...c } })
    if (!reply.ok) throw new Error(reply.error.message)
    const job = await w.supervisor.waitForExit(reply.value.id)
    expect(job.state, job.error ?? '').toBe('done')
    const values = Object.fromEntries(w.evals.matrix({ jobId: job.id }).rows.map((r) => [`${r.task} ${r.metric}`, r.value]))
    return { id: job.id, summary: job.result as EvalJobSummary, values }
  }
  const logs = (jobId: number) => w.jobs.logs(jobId).map((l) => l.text)

  it('answers shared across engines: PyTorch first then embedded, and embedded first then PyTorch, the second run computing nothing', { timeout: 600_000 }, async () => {
    const a = path.join(tempDir('gptw-torch-eval-ckpt-'), 'step-1')
    const b = path.join(tempDir('gptw-torch-eval-ckpt-'), 'step-2')
    randomCheckpoint(a, { seed: 21, nCtx: 64 })
    randomCheckpoint(b, { seed: 22, nCtx: 64 })

    const torchA = await evaluate({ checkpoints: [a], engine: 'pytorch', devices: ['cpu:0', 'cpu:1'] })
    expect(torchA.summary.failures).toEqual([])
    // one document each (limit 1): copa 2 choices, lambada 1, math_algebra 1 generation
    expect(torchA.summary.checkpoints[0]).toMatchObject({ computed: 4, cached: 0 })
    expect(logs(torchA.id).some((t) => /PyTorch engine on 2 x cpu, float32/.test(t))).toBe(true)
    const embeddedA = await evaluate({ checkpoints: [a], engine: 'embedded' })
    expect(embeddedA.summary.checkpoints[0]).toMatchObject({ computed: 0, cached: 4, fingerprint: torchA.summary.checkpoints[0].fingerprint })
    expect(embeddedA.values).toEqual(torchA.values)

    const embeddedB = await evaluate({ checkpoints: [b], engine: 'embedded' })
    expect(embeddedB.summary.checkpoints[0]).toMatchObject({ computed: 4, cached: 0 })
    const torchB = await evaluate({ checkpoints: [b], engine: 'pytorch' })
    expect(torchB.summary.checkpoints[0]).toMatchObject({ computed: 0, cached: 4 })
    expect(torchB.values).toEqual(embeddedB.values)
    expect(Object.keys(torchB.values).sort()).toEqual(['copa acc', 'lambada acc', 'lambada ppl', 'math_algebra acc'])

    // without the cache the PyTorch engine computes the same metrics the embedded engine cached
    const fresh = await evaluate({ checkpoints: [b], engine: 'pytorch', noCache: true })
    expect(fresh.summary.checkpoints[0]).toMatchObject({ computed: 4, cached: 0 })
    for (const [k, v] of Object.entries(embeddedB.values)) expect(Math.abs(fresh.values[k] - v) / Math.max(Math.abs(v), 1e-12), k).toBeLessThanOrEqual(1e-4)
  })

  it('gptw eval --engine pytorch --devices cpu:0,cpu:1 over a config that names neither', async () => {
    const work = tempDir('gptw-torch-eval-cli-')
    const ckpt = path.join(work, 'ckpt')
    randomCheckpoint(ckpt, { seed: 24, nCtx: 64 })
    fs.writeFileSync(path.join(work, 'eval.json'), JSON.stringify({ checkpoints: [ckpt], tasks: ['copa'], limit: 1, bootstrapIters: 100, sources: server.sources }))
    const args = ['eval', '--config', path.join(work, 'eval.json'), '--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', '--json']
    // a separate process (the fixture server lives in this one)
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), ...args], { env: { ...process.env, GPTW_HOME: tempDir('gptw-torch-eval-home-') } })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      child.on('exit', (code) => resolve({ code, stdout, stderr }))
    })
    expect(run.code, run.stderr).toBe(0)
    const doc = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { state: string; config: { engine: string; devices: string[] }; job: EvalJobSummary }
    expect(doc.state).toBe('done')
    expect(doc.config).toMatchObject({ engine: 'pytorch', devices: ['cpu:0', 'cpu:1'] })
    expect(doc.job.checkpoints[0]).toMatchObject({ computed: 2, cached: 0 })
  }, 300_000)

  it('a cancelled PyTorch eval leaves no model server running', async () => {
    const ckpt = path.join(tempDir('gptw-torch-eval-ckpt-'), 'step-5')
    randomCheckpoint(ckpt, { seed: 25, nCtx: 64 })
    /** Processes whose command line names this checkpoint (the model servers), from /proc. */
    const servers = (): number[] =>
      fs.readdirSync('/proc').flatMap((e) => {
        if (!/^\d+$/.test(e)) return []
        try {
          const args = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0')
          return args.includes('gptw_torch.serve') && args.includes(ckpt) ? [Number(e)] : []
        } catch {
          return [] // gone meanwhile
        }
      })
    const before = w.evals.cache.count() // the workspace's cache holds the other tests' answers too
    const reply = await w.call('jobs.start', {
      kind: 'eval',
      params: {
        checkpoints: [ckpt],
        tasks: ['copa', 'hellaswag', 'piqa', 'arc_challenge', 'math_algebra'],
        batchSize: 1,
        bootstrapIters: 100,
        sources: server.sources,
        engine: 'pytorch',
        devices: ['cpu:0', 'cpu:1']
      }
    })
    if (!reply.ok) throw new Error(reply.error.message)
    await waitFor(() => servers().length === 2, 120_000, 'two model servers')
    await waitFor(() => w.evals.cache.count() >= before + 2, 120_000, 'the first answers in the cache')
    w.supervisor.cancel(reply.value.id)
    const job = await w.supervisor.waitForExit(reply.value.id)
    expect(job.state).toBe('cancelled')
    await waitFor(() => servers().length === 0, 30_000, 'the model servers to exit')
  })

  it('a PyTorch eval on an interpreter without torch fails saying what to set', async () => {
    const a = path.join(tempDir('gptw-torch-eval-ckpt-'), 'step-3')
    randomCheckpoint(a, { seed: 23, nCtx: 64 })
    const reply = await w.call('jobs.start', {
      kind: 'eval',
      params: { checkpoints: [a], tasks: ['copa'], backend: 'wasm', sources: server.sources, engine: 'pytorch', python: '/nonexistent/python3' }
    })
    if (!reply.ok) throw new Error(reply.error.message)
    const job = await w.supervisor.waitForExit(reply.value.id)
    expect(job.state).toBe('failed')
    expect(job.error).toMatch(/\/nonexistent\/python3 .*was not found.*GPTW_PYTHON/)
  })
})
