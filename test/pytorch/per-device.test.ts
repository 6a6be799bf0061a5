// Per-device figures of a data-parallel run on the PyTorch engine (issue 14): every rank's pid,
// host memory now and at peak and its own step time, gathered to rank 0 each step and printed in
// its step line's `devices` list, beside the top-level fields (rank 0's) older readers use. Two CPU
// processes (gloo) under torchrun; each reported pid is a live rank whose resident memory, read from
// /proc while the run goes on, is what its record says. Through the app (the Workbench's train job,
// as test/pytorch/launch.test.ts) the list becomes per-device metrics (rssMb@1, ...); `gptw train
// --json` prints it back as `devices` and its progress line the spread over the ranks.
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { type DeviceFigures, deviceRows, splitDeviceMetrics } from '../../src/shared/device-figures'
import { LOCAL_RENDEZVOUS } from '../../src/shared/torchrun'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir } from '../helpers'
import { PACKAGE_DIR, PYTHON, SLOW, describeTorch, descendants, jobLog, makeDataset, records, startTrain } from './helpers'

const CONFIG: TrainConfigInput = {
  model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
  batchSize: 8,
  steps: 8,
  eval: { interval: 0 },
  checkpoint: { interval: 0, keepLast: 1 },
  seed: 3
}

// As test/pytorch/torchrun.test.ts: torch 1.13's launcher needs its stderr redirected and teed back.
const LAUNCHER = ['-m', 'torch.distributed.run', ...LOCAL_RENDEZVOUS, '--redirects', '2', '--tee', '2']

interface DeviceRecord {
  rank: number
  pid: number
  rssMb: number
  peakRssMb: number
  stepSeconds: number
}

interface StepLine {
  step: number
  rssMb: number
  peakRssMb: number
  elapsed: number
  devices: DeviceRecord[]
}

/** A process's resident memory now (MB), from /proc; null once it is gone. */
function liveRssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

let dataset: string
const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('per-device figures on the PyTorch engine', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 50_000).dir
  })

  it("two CPU processes: rank 0's step line lists both ranks' own pid, memory and step time", async () => {
    const dir = tempDir()
    const file = path.join(dir, 'run.json')
    fs.writeFileSync(file, JSON.stringify(CONFIG))
    // Read at the first step line, while the ranks train on: each reported pid's memory as /proc sees it.
    const live = new Map<number, { reported: number; live: number | null }>()
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const args = [...LAUNCHER, '--nproc_per_node', '2', '-m', 'gptw_torch', 'train', '--config', file, '--dataset', dataset, '--out', dir, '--fast-init']
      const child = spawn(PYTHON, args, { cwd: PACKAGE_DIR, detached: true, env: { ...process.env, PYTHONPATH: PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1' } })
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), SLOW - 20_000)
      let out = ''
      let err = ''
      child.stdout.on('data', (d) => {
        out += d
        if (live.size) return
        const first = records(out).find((r) => r.type === 'step') as unknown as StepLine | undefined
        for (const d of first?.devices ?? []) live.set(d.pid, { reported: d.rssMb, live: liveRssMb(d.pid) })
      })
      child.stderr.on('data', (d) => (err += d))
      child.on('error', reject)
      child.on('close', (c) => {
        clearTimeout(timer)
        resolve({ code: c, stdout: out, stderr: err })
      })
    })
    expect(code, stderr).toBe(0)
    const lines = records(stdout).filter((r) => r.type === 'step') as unknown as StepLine[]
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    for (const l of lines) {
      expect(l.devices.map((d) => d.rank)).toEqual([0, 1])
      const [zero, one] = l.devices
      // Two processes, each its own figures (not rank 0's copied).
      expect(zero.pid).not.toBe(one.pid)
      expect(one).not.toEqual({ ...zero, rank: 1 })
      for (const d of l.devices) {
        expect(d.rssMb).toBeGreaterThan(50)
        expect(d.peakRssMb).toBeGreaterThanOrEqual(d.rssMb - 1)
        expect(d.stepSeconds).toBeGreaterThan(0)
        expect(d.stepSeconds).toBeLessThan(60)
      }
      // The top-level figures stay rank 0's: its peak as the line says, its step time the elapsed time's increment.
      expect(zero.peakRssMb).toBeLessThanOrEqual(l.peakRssMb)
      expect(Object.keys(zero)).not.toContain('memoryBytes') // no CUDA here: no GPU figures, rather than zeros
    }
    const elapsed = lines.map((l, i) => l.elapsed - (i ? lines[i - 1].elapsed : 0))
    lines.forEach((l, i) => expect(l.devices[0].stepSeconds).toBeCloseTo(elapsed[i], 6))
    // Each pid was a live rank whose resident memory was near what it reported (it grows a little as it trains).
    expect(live.size).toBe(2)
    for (const [pid, m] of live) {
      expect(m.live, `pid ${pid} was gone at the first step`).not.toBeNull()
      expect(m.live! / m.reported).toBeGreaterThan(0.7)
      expect(m.live! / m.reported).toBeLessThan(1.5)
    }
    const last = lines.at(-1)!.devices
    console.log(
      `per-device figures at step 8: ${last.map((d) => `rank ${d.rank} pid ${d.pid}: rss ${d.rssMb.toFixed(0)} MB, peak ${d.peakRssMb.toFixed(0)} MB, step ${(d.stepSeconds * 1000).toFixed(0)} ms`).join('; ')}; live at step 1: ${[...live].map(([pid, m]) => `${pid} ${m.live?.toFixed(0)} MB (reported ${m.reported.toFixed(0)})`).join(', ')}`
    )
  })

  it('through the app: per-device metrics for each step, each rank a process of the job with its own figures', async () => {
    const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    open.push(wb)
    const config: TrainConfigInput = { ...CONFIG, steps: 5, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'] }
    const jobId = await startTrain(wb, { config, dataset })
    // At the first step's metrics, while the ranks train on: which processes of the job the pids are, and their memory.
    let seen: { values: Record<string, number>; ranks: number[]; live: (number | null)[] } | null = null
    wb.supervisor.on('metric', (m) => {
      if (m.jobId !== jobId || seen) return
      const worker = (wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number }).pid
      const ranks = descendants(worker)
        .filter((p) => /-m gptw_torch train/.test(p.args) && !/torch\.distributed\.run/.test(p.args))
        .map((p) => p.pid)
      seen = { values: m.values, ranks, live: [m.values['pid@0'], m.values['pid@1']].map(liveRssMb) }
    })
    const ended = await wb.supervisor.waitForExit(jobId)
    expect(ended.state, `${ended.error}\n${jobLog(wb, jobId)}`).toBe('done')
    const run = wb.runs.byJob(jobId)!
    const metrics = wb.runs.metrics(run.id)
    const steps = (name: string): number[] => metrics.filter((m) => m.name === name).map((m) => m.step)
    for (const name of ['rssMb@0', 'rssMb@1', 'peakRssMb@0', 'peakRssMb@1', 'stepSeconds@0', 'stepSeconds@1', 'pid@0', 'pid@1', 'rssMb']) expect(steps(name), name).toEqual([1, 2, 3, 4, 5])
    expect(metrics.some((m) => m.name.startsWith('memoryBytes@'))).toBe(false) // CPU ranks: no GPU figures
    expect(seen).not.toBeNull()
    const { devices } = splitDeviceMetrics(seen!.values)
    expect(devices.map((d) => d.rank)).toEqual([0, 1])
    // Both pids are training processes of this job (torchrun's ranks), distinct, each with its own figures.
    expect([...seen!.ranks].sort()).toEqual(devices.map((d) => d.pid).sort())
    expect(devices[1]).not.toEqual({ ...devices[0], rank: 1 })
    devices.forEach((d: DeviceFigures, i) => {
      expect(d.rssMb).toBeGreaterThan(50)
      expect(seen!.live[i]! / d.rssMb!).toBeGreaterThan(0.7)
      expect(seen!.live[i]! / d.rssMb!).toBeLessThan(1.5)
    })
    const series: Record<string, { step: number[]; value: number[] }> = {}
    for (const m of metrics) {
      const s = (series[m.name] ??= { step: [], value: [] })
      s.step.push(m.step)
      s.value.push(m.value)
    }
    const rows = deviceRows(series)
    expect(rows.map((r) => r.rank)).toEqual([0, 1])
    console.log(
      `through the app, step 1: ${devices.map((d, i) => `rank ${d.rank} pid ${d.pid} rss ${d.rssMb!.toFixed(0)} MB (/proc ${seen!.live[i]!.toFixed(0)})`).join('; ')}; panel rows ${JSON.stringify(rows)}`
    )
  })

  it('gptw train: --json lines carry devices (PyTorch), the progress line the spread over the ranks (embedded)', () => {
    const gptw = (args: string[], steps = '2') =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'train', '--dataset', dataset, '--devices', 'cpu:0,cpu:1', '--steps', steps, ...args], {
        env: { ...process.env, GPTW_HOME: tempDir(), GPTW_PYTHON: PYTHON },
        encoding: 'utf8',
        timeout: 280_000
      })
    const torch = gptw(['--engine', 'pytorch', '--json'])
    expect(torch.status, torch.stderr).toBe(0)
    const lines = records(torch.stdout).filter((l) => typeof l.step === 'number') as unknown as { step: number; rssMb: number; devices: DeviceFigures[] }[]
    expect(lines.map((l) => l.step)).toEqual([1, 2])
    for (const l of lines) {
      expect(l.devices.map((d) => d.rank)).toEqual([0, 1])
      expect(l.devices[0].pid).not.toBe(l.devices[1].pid)
      expect(Object.keys(l).some((k) => k.includes('@'))).toBe(false)
      expect(typeof l.rssMb).toBe('number') // rank 0's, as before
    }
    const embedded = gptw(['--engine', 'embedded'], '1')
    expect(embedded.status, embedded.stderr).toBe(0)
    const progress = embedded.stderr.split('\n').find((l) => l.startsWith('100% step 1/1'))
    expect(progress, embedded.stderr).toMatch(/ \| mem \d+(-\d+)? MB, step \d+(-\d+)? ms over 2 ranks$/)
    console.log(`gptw train, embedded on 2 workers: ${progress}`)
  })
})
