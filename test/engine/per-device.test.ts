// Per-device figures of a data-parallel run on the embedded engine (issue 14): the ring carries each
// worker's record along with the gradient all-reduce (the sums unchanged, every record on every
// worker), and a 2-worker run through the real services stores each rank's pid, memory and step
// time per step (rssMb@0, rssMb@1, ...), each from its own process: the reported pids are the job's
// worker and its peer, whose resident memory /proc shows near what they reported.
import fs from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import type { TrainParams } from '../../src/shared/jobs'
import { deviceRows, deviceSpread, splitDeviceMetrics } from '../../src/shared/device-figures'
import { joinRing, listen } from '../../src/core/engine/parallel/ring'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'

describe('ring all-reduce with records', () => {
  it('sums as allReduce does and hands every worker each rank’s record, then plain all-reduces go on in step', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => listen()))
    const ports = servers.map((s) => s.port)
    const rings = await Promise.all(servers.map((s, rank) => joinRing(rank, ports, s.server)))
    const n = 10_007
    const buffers = rings.map((_, r) => Float32Array.from({ length: n }, (_, i) => (i % 5) + r))
    const records = rings.map((_, r) => Float64Array.of(1000 + r, r * 0.125, 1e15 + r))
    const gathered = await Promise.all(rings.map((ring, r) => ring.allReduceGather(buffers[r], records[r])))
    for (let i = 0; i < n; i += 101) expect(buffers[0][i]).toBe(3 * (i % 5) + 3)
    expect(Buffer.from(buffers[2].buffer).equals(Buffer.from(buffers[0].buffer))).toBe(true)
    for (const g of gathered) expect(g.map((r) => [...r])).toEqual(records.map((r) => [...r]))
    const again = rings.map(() => Float32Array.of(1, 2, 3, 4))
    await Promise.all(rings.map((ring, r) => ring.allReduce(again[r])))
    expect([...again[1]]).toEqual([3, 6, 9, 12])
    rings.forEach((r) => r.close())
  })
})

/** A process's resident memory now (MB), from /proc; null once it is gone. */
function liveRssMb(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return null
  }
}

describe('per-device figures of a 2-worker embedded run', () => {
  let wb: Workbench
  beforeAll(() => {
    wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  })
  afterAll(() => wb.close())

  it('stores each rank’s pid, memory and step time per step, each from its own process', { timeout: 240_000 }, async () => {
    const config: TrainConfigInput = {
      model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
      batchSize: 4,
      steps: 6,
      optimizer: { lr: 2e-3 },
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 1 },
      backend: 'wasm',
      devices: ['cpu:0', 'cpu:1'],
      seed: 7
    }
    const reply = await wb.call('jobs.start', { kind: 'train', params: { config } as TrainParams })
    if (!reply.ok) throw new Error(reply.error.message)
    const jobId = reply.value.id
    // At the first step's metrics, while the workers train on: who the pids are and what /proc says of them.
    let seen: { values: Record<string, number>; worker: number | null; live: (number | null)[]; parents: (number | null)[] } | null = null
    wb.supervisor.on('metric', (m) => {
      if (m.jobId !== jobId || seen) return
      const pids = [m.values['pid@0'], m.values['pid@1']]
      const row = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number | null }
      seen = { values: m.values, worker: row.pid, live: pids.map(liveRssMb), parents: pids.map(parentOf) }
    })
    const ended = await wb.supervisor.waitForExit(jobId)
    const log = wb.jobs
      .logs(jobId, 0, 5000)
      .map((l) => l.text)
      .join('\n')
    expect(ended.state, `${ended.error}\n${log}`).toBe('done')
    const run = wb.runs.byJob(jobId)!
    const metrics = wb.runs.metrics(run.id)
    const steps = (name: string): number[] => metrics.filter((m) => m.name === name).map((m) => m.step)
    const all = Array.from({ length: 6 }, (_, i) => i + 1)
    for (const name of ['rssMb@0', 'rssMb@1', 'peakRssMb@0', 'peakRssMb@1', 'stepSeconds@0', 'stepSeconds@1', 'pid@0', 'pid@1']) expect(steps(name), name).toEqual(all)
    // The run's own figures are unchanged beside them.
    expect(steps('rssMb')).toEqual(all)

    expect(seen).not.toBeNull()
    const { devices } = splitDeviceMetrics(seen!.values)
    expect(devices.map((d) => d.rank)).toEqual([0, 1])
    const [zero, one] = devices
    // Rank 0 is the job's worker, rank 1 the peer it forked; two processes, each its own figures.
    expect(zero.pid).toBe(seen!.worker)
    expect(seen!.parents[1]).toBe(seen!.worker)
    expect(one).not.toEqual({ ...zero, rank: 1 })
    devices.forEach((d, i) => {
      expect(d.rssMb).toBeGreaterThan(50)
      expect(d.peakRssMb).toBeGreaterThanOrEqual(d.rssMb!)
      expect(d.stepSeconds).toBeGreaterThan(0)
      expect(seen!.live[i], `rank ${i}'s pid was gone at the first step`).not.toBeNull()
      expect(seen!.live[i]! / d.rssMb!).toBeGreaterThan(0.7)
      expect(seen!.live[i]! / d.rssMb!).toBeLessThan(1.5)
    })

    // The job's progress line (the Jobs list's) ends with the spread of the last step's devices, as stored.
    const lastStep = splitDeviceMetrics(Object.fromEntries(metrics.filter((m) => m.step === 6).map((m) => [m.name, m.value])))
    const spread = deviceSpread(lastStep.devices)
    expect(spread).toMatch(/^mem \d+(-\d+)? MB, step \d+(-\d+)? ms over 2 ranks$/)
    const progressText = wb.jobs.get(jobId)!.progressText
    expect(progressText).toMatch(/^step 6\/6 \| /)
    expect(progressText.endsWith(` | ${spread}`), progressText).toBe(true)
    console.log(`job ${jobId}'s progress line: ${progressText}`)

    // What the run page's per-device table shows.
    const series: Record<string, { step: number[]; value: number[] }> = {}
    for (const m of metrics) {
      const s = (series[m.name] ??= { step: [], value: [] })
      s.step.push(m.step)
      s.value.push(m.value)
    }
    const rows = deviceRows(series)
    expect(rows.map((r) => [r.rank, r.pid])).toEqual([
      [0, zero.pid],
      [1, one.pid]
    ])
    console.log(
      `step times: ${metrics
        .filter((m) => m.name.startsWith('stepSeconds@'))

        .map((m) => `${m.name} ${m.step}: ${(m.value * 1000).toFixed(0)} ms`)
        .join(', ')}`
    )
    console.log(
      `embedded, 2 workers, step 1: ${devices.map((d, i) => `rank ${d.rank} pid ${d.pid}: rss ${d.rssMb!.toFixed(0)} MB (/proc ${seen!.live[i]!.toFixed(0)}), peak ${d.peakRssMb!.toFixed(0)} MB, outside the exchange ${(d.stepSeconds! * 1000).toFixed(0)} ms`).join('; ')}; rows: ${JSON.stringify(rows)}`
    )
  })
})
