// Per-device figures of a data-parallel run on the PyTorch engine (issue 14): every rank's pid,
// host memory now and at peak and its own step time, gathered to rank 0 each step and printed in
// its step line's `devices` list, beside the top-level fields (rank 0's) older readers use. Two CPU
// processes (gloo) under torchrun; each reported pid is a live rank whose resident memory, read from
// /proc while the run goes on, is what its record says.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { LOCAL_RENDEZVOUS } from '../../src/shared/torchrun'
import { tempDir } from '../helpers'
import { PACKAGE_DIR, PYTHON, SLOW, describeTorch, makeDataset, records } from './helpers'

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
})
