// The app as the PyTorch engine's launcher, through the real Workbench: the train worker runs
// torchrun over 2 CPU processes (gloo), relays rank 0's lines into SQLite (metrics, checkpoint rows,
// backend), pauses by checkpointing and stopping every process and relaunches on resume, fails a
// job whose rank was killed naming that rank with no process of the job left, and resumes the run
// from its last checkpoint. The tiny preset's model, few steps.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { TrainConfig, type TrainConfigInput } from '../../src/shared/config/train'
import { deviceSpread, splitDeviceMetrics } from '../../src/shared/device-figures'
import type { Job } from '../../src/shared/jobs'
import { PAUSED_LOG_LINE } from '../../src/core/job-context'
import { resolveEngine } from '../../src/core/engine/pytorch/launch'
import { pytorchReport } from '../../src/core/engine/pytorch/probe'
import { Workbench } from '../../src/main/services/workbench'
import { MOBY_DICK, RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PYTHON, SLOW, alive, descendants, describeTorch, makeDataset } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

const tinyPreset = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

function config(over: Partial<TrainConfigInput>): TrainConfigInput {
  return { ...tinyPreset, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'], batchSize: 4, eval: { interval: 0 }, ...over }
}

let dataset: string

async function start(wb: Workbench, params: unknown): Promise<Job> {
  const r = await wb.call('jobs.start', { kind: 'train', params })
  if (!r.ok) throw new Error(r.error.message)
  return r.value
}

function logs(wb: Workbench, jobId: number): string[] {
  return wb.jobs.logs(jobId, 0, 5000).map((l) => l.text)
}

function metricSteps(wb: Workbench, runId: number, name = 'loss'): number[] {
  return wb.runs
    .metrics(runId)
    .filter((m) => m.name === name)
    .map((m) => m.step)
}

/** The job's worker pid, as the supervisor recorded it. */
function workerPid(wb: Workbench, jobId: number): number {
  const row = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number | null }
  if (!row.pid) throw new Error(`job ${jobId} has no live worker`)
  return row.pid
}

describeTorch('the PyTorch engine launched by the app', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('trains on 2 CPU processes: metrics in SQLite, checkpoint rows, a checkpoint that gptw score reads', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 4, checkpoint: { interval: 2, keepLast: 3 } }), dataset })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state, `${ended.error}\n${logs(wb, job.id).join('\n')}`).toBe('done')
    const run = wb.runs.byJob(job.id)!
    expect(run.backend).toMatch(/^pytorch \S+ cpu \(2 processes, gloo, float32\)$/)
    expect(metricSteps(wb, run.id)).toEqual([1, 2, 3, 4])
    expect(metricSteps(wb, run.id, 'tokensPerSec')).toEqual([1, 2, 3, 4])
    // Rank 0's memory, as the embedded trainer reports its own (the run page's memory figures).
    expect(metricSteps(wb, run.id, 'peakRssMb')).toEqual([1, 2, 3, 4])
    expect(wb.runs.metrics(run.id).find((m) => m.name === 'peakRssMb')!.value).toBeGreaterThan(50)
    const losses = wb.runs.metrics(run.id).filter((m) => m.name === 'loss')
    expect(losses[0].value).toBeGreaterThan(9) // ~ln(50257) = 10.8 from a fresh init
    // The job's progress line (the Jobs list's) ends with the spread of the last step's two processes, as stored.
    const last = splitDeviceMetrics(Object.fromEntries(wb.runs.metrics(run.id, 3).map((m) => [m.name, m.value])))
    expect(last.devices.map((d) => d.rank)).toEqual([0, 1])
    const spread = deviceSpread(last.devices)
    expect(spread).toMatch(/^mem \d+(-\d+)? MB, step \d+(-\d+)? ms over 2 ranks$/)
    expect(ended.progressText).toMatch(/^step 4\/4 \| /)
    expect(ended.progressText.endsWith(` | ${spread}`), ended.progressText).toBe(true)
    const rows = wb.runs.checkpoints(run.id)
    expect(rows.map((c) => c.step)).toEqual([2, 4])
    expect(rows[1].path).toBe(path.join(run.dir, 'checkpoints', 'step-4'))
    expect(ended.result).toMatchObject({ runId: run.id, steps: 4, tokens: 4 * 4 * 64 })
    expect(logs(wb, job.id).some((l) => l.includes('torch.distributed.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --rdzv_id gptw-local --nproc_per_node 2'))).toBe(true)
    const text = path.join(tempDir(), 'text.txt')
    fs.writeFileSync(text, fs.readFileSync(MOBY_DICK, 'utf8').slice(0, 2000))
    const scored = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'score', '--checkpoint', rows[1].path, '--text', text, '--json'], { encoding: 'utf8', timeout: 120_000 })
    expect(scored.status, scored.stderr).toBe(0)
    const score = JSON.parse(scored.stdout.trim().split('\n').at(-1)!) as { loss: number; tokens: number }
    console.log(`2 CPU processes, 4 steps: losses ${losses.map((l) => l.value.toFixed(4)).join(', ')}; gptw score of step-4: loss ${score.loss.toFixed(4)} over ${score.tokens} tokens`)
    expect(score.tokens).toBeGreaterThan(100)
    expect(score.loss).toBeGreaterThan(5)
    expect(score.loss).toBeLessThan(12)
  })

  it('pause checkpoints and stops every process; resume relaunches from that checkpoint and finishes the run', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 12, checkpoint: { interval: 0, keepLast: 5 } }), dataset })
    const run = wb.runs.byJob(job.id)!
    await waitFor(() => metricSteps(wb, run.id).length > 0, SLOW, 'a first step')
    await wb.call('jobs.pause', { id: job.id })
    await waitFor(() => logs(wb, job.id).includes(PAUSED_LOG_LINE), SLOW, 'the pause to take hold')
    const pausedAt = wb.runs.checkpoints(run.id).at(-1)!
    expect(pausedAt.step).toBeLessThan(12)
    expect(fs.existsSync(path.join(pausedAt.path, 'optimizer.safetensors'))).toBe(true)
    expect(wb.jobs.get(job.id)!.state).toBe('paused')
    // The worker waits; no torch process is left.
    expect(descendants(workerPid(wb, job.id))).toEqual([])
    expect(metricSteps(wb, run.id).at(-1)).toBe(pausedAt.step)
    await wb.call('jobs.resume', { id: job.id })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state, `${ended.error}`).toBe('done')
    expect(logs(wb, job.id).some((l) => l.startsWith(`Resuming from ${pausedAt.path}`))).toBe(true)
    expect(metricSteps(wb, run.id)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1))
    console.log(`paused at step ${pausedAt.step}, resumed to 12`)
  })

  it('a rank killed mid-run fails the job naming it, leaves no process, and the run resumes from its last checkpoint', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 300, checkpoint: { interval: 2, keepLast: 2 } }), dataset })
    const run = wb.runs.byJob(job.id)!
    await waitFor(() => wb.runs.checkpoints(run.id).length > 0, SLOW, 'a first checkpoint')
    const tree = descendants(workerPid(wb, job.id))
    const ranks = tree.filter((p) => p.args.includes('gptw_torch') && !p.args.includes('torch.distributed.run'))
    expect(ranks).toHaveLength(2)
    const victim = ranks.find((p) => p.env.split('\0').includes('LOCAL_RANK=1'))!
    process.kill(victim.pid, 'SIGKILL')
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state).toBe('failed')
    console.log(`killed rank 1 (pid ${victim.pid}): ${ended.error}`)
    expect(ended.error).toContain(`rank 1 (local rank 1, pid ${victim.pid}) was killed by SIGKILL`)
    expect(ended.error).toMatch(/last checkpoint is at step \d+/)
    for (const p of tree) expect(alive(p.pid), `${p.pid} ${p.args}`).toBe(false)
    const last = wb.runs.checkpoints(run.id).at(-1)!
    // Resume the run (a new job from its latest checkpoint, as the Runs page does); cancel it once it has moved on.
    const resumed = await start(wb, { resume: { runId: run.id } })
    await waitFor(() => metricSteps(wb, run.id).includes(last.step + 2), SLOW, 'steps after the checkpoint')
    expect(logs(wb, resumed.id).some((l) => l.startsWith(`Resuming from ${last.path}`))).toBe(true)
    const steps = metricSteps(wb, run.id)
    expect(steps.slice(0, last.step + 2)).toEqual(Array.from({ length: last.step + 2 }, (_, i) => i + 1))
    const resumedTree = descendants(workerPid(wb, resumed.id))
    await wb.call('jobs.cancel', { id: resumed.id })
    const cancelled = await wb.supervisor.waitForExit(resumed.id)
    expect(cancelled.state).toBe('cancelled')
    await waitFor(() => resumedTree.every((p) => !alive(p.pid)), 10_000, 'the cancelled run to leave no process')
  })

  it('a missing interpreter fails the job with a message naming GPTW_PYTHON', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 2, python: '/nonexistent/bin/python3' }), dataset })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state).toBe('failed')
    expect(ended.error).toMatch(/\/nonexistent\/bin\/python3 \(the config's python key\) was not found\. Set GPTW_PYTHON/)
  })

  it('engine defaults to embedded; auto is PyTorch only with a GPU selected and torch with CUDA', async () => {
    const parse = (over: Partial<TrainConfigInput>) => TrainConfig.parse({ model: tinyPreset.model, batchSize: 4, steps: 1, python: PYTHON, ...over })
    expect(parse({}).engine).toBe('embedded')
    expect(await resolveEngine(parse({ engine: 'pytorch' }))).toBe('pytorch')
    expect(await resolveEngine(parse({ engine: 'auto' }))).toBe('embedded')
    const report = await pytorchReport(PYTHON)
    expect(await resolveEngine(parse({ engine: 'auto', devices: ['gpu:0'] }))).toBe(report.cudaAvailable ? 'pytorch' : 'embedded')
  })
})
