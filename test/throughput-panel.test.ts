// The run page's throughput & memory figures (src/shared/throughput-figures.ts)
// from metric series as the trainer stores them: medians over the last steps, the latest split,
// the highest peak RSS, GPU memory in MB, the peak's derivation from the job log, and the charts;
// per device (src/shared/device-figures.ts): a step line's devices list as rssMb@1-style metrics
// and back, the panel's rows and charts, and the spread the CLI's progress line shows.
import { describe, expect, it } from 'vitest'
import { deviceCharts, deviceMetrics, deviceRows, deviceSpread, parseDevices, splitDeviceMetrics, splitSpread } from '../src/shared/device-figures'
import { peakDerivation, throughputCharts, throughputFigures } from '../src/shared/throughput-figures'

const cols = (values: number[], from = 1) => ({ step: values.map((_, i) => from + i), value: values })

describe('throughput figures', () => {
  const series = {
    loss: cols([10, 9, 8, 7, 6]),
    tokensPerSec: cols([100, 1000, 1100, 50, 1200]),
    tflops: cols([0.01, 0.1, 0.11, 0.005, 0.12]),
    mfu: cols([0.001, 0.01, 0.011, 0.0005, 0.012]),
    peakTflops: cols([10, 10, 10, 10, 10]),
    fwdBwdMs: cols([90, 80, 70, 60, 50]),
    optimizerMs: cols([9, 8, 7, 6, 5]),
    dataMs: cols([0.5, 0.5, 0.5, 0.5, 0.25]),
    rssMb: cols([400, 420, 410, 430, 415]),
    peakRssMb: cols([400, 420, 420, 445, 445]),
    etaSeconds: cols([40, 30, 20, 10, 0])
  }

  it('medians of the last steps for speed, the last step for the split, the highest peak RSS', () => {
    const f = throughputFigures(series, 3)!
    expect(f.step).toBe(5)
    expect(f.tokensPerSec).toBe(1100) // median of 1100, 50, 1200
    expect(f.tflops).toBe(0.11)
    expect(f.mfu).toBe(0.011)
    expect(f.peakTflops).toBe(10)
    expect(f.split.map((p) => [p.key, p.ms])).toEqual([
      ['fwdBwdMs', 50],
      ['optimizerMs', 5],
      ['dataMs', 0.25]
    ])
    expect(f.stepMs).toBe(55.25)
    expect(f.rssMb).toBe(415)
    expect(f.peakRssMb).toBe(445)
    expect(f.gpuAllocatedMb).toBeNull()
    expect(f.etaSeconds).toBe(0)
    expect(throughputFigures(series, 4)!.tokensPerSec).toBe(1050) // even count: the mean of the middle two
  })

  it('no tokens/s yet: no figures; the PyTorch engine: GPU memory in MB, no split or MFU', () => {
    expect(throughputFigures({ loss: cols([1]) })).toBeNull()
    expect(throughputFigures(undefined)).toBeNull()
    const torch = throughputFigures({ tokensPerSec: cols([500, 600]), memoryBytes: cols([2 ** 30, 3 * 2 ** 29]) })!
    expect(torch.gpuAllocatedMb).toBe(1536)
    expect(torch.split).toEqual([])
    expect(torch.stepMs).toBeNull()
    expect(torch.mfu).toBeNull()
    expect(torch.tflops).toBeNull()
    // Given the run's shape, TFLOP/s from tokens/s: GPT-2 small's 855,383,040 FLOPs per token x 550 tokens/s.
    const small = throughputFigures({ tokensPerSec: cols([500, 600]) }, 10, { nLayer: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257 })!
    expect(small.tflops).toBeCloseTo((855_383_040 * 550) / 1e12, 9)
    expect(small.tflopsDerived).toBe(true)
    expect(throughputFigures(series, 3)!.tflopsDerived).toBe(false)
  })

  it("the peak's derivation from the train job's log, or what the log says when there is none", () => {
    const lines = [{ text: 'Backend: native' }, { text: 'MFU against Intel Xeon: 2 cores x 8 fp32 lanes (AVX2) x 2 FMA units x 2 FLOPs x 2.45 GHz (cpu MHz) = 156.8 GFLOP/s' }]
    expect(peakDerivation(lines)).toBe('Intel Xeon: 2 cores x 8 fp32 lanes (AVX2) x 2 FMA units x 2 FLOPs x 2.45 GHz (cpu MHz) = 156.8 GFLOP/s')
    expect(peakDerivation([{ text: 'MFU: the peak of this GPU is not known (src/shared/throughput.ts GPU_PEAKS); TFLOP/s only.' }])).toMatch(/^the peak of this GPU is not known/)
    expect(peakDerivation([{ text: 'Backend: native' }])).toBeNull()
  })

  it('charts: tokens/s, MFU in percent (TFLOP/s only without a peak), the split and memory', () => {
    const charts = throughputCharts(series, 100)
    expect(charts.map((c) => c.key)).toEqual(['tokens', 'mfu', 'split', 'memory'])
    expect(charts[1].lines[0].points.at(-1)).toEqual({ x: 5, y: 1.2 })
    expect(charts[2].lines.map((l) => l.label)).toEqual(['forward + backward', 'optimizer', 'data'])
    const noPeak = throughputCharts({ tokensPerSec: series.tokensPerSec, tflops: series.tflops }, 100)
    expect(noPeak.map((c) => c.key)).toEqual(['tokens', 'tflops'])
  })
})

describe('per-device figures', () => {
  // As the PyTorch engine prints them on CUDA: rank 1 without a pid, a NaN left out, junk ignored.
  const line = [
    { rank: 0, pid: 101, rssMb: 410.5, peakRssMb: 420, stepSeconds: 0.25, memoryAllocatedBytes: 2 ** 30, memoryBytes: 3 * 2 ** 30, memoryReservedBytes: 4 * 2 ** 30 },
    { rank: 1, rssMb: 432, peakRssMb: Number.NaN, stepSeconds: 0.268, memoryBytes: 3.5 * 2 ** 30, extra: 'x' },
    { pid: 7 },
    'junk'
  ]

  it("a step line's devices become metrics named figure@rank, and come back as the list", () => {
    const devices = parseDevices(line)
    expect(devices).toEqual([
      { rank: 0, pid: 101, rssMb: 410.5, peakRssMb: 420, stepSeconds: 0.25, memoryAllocatedBytes: 2 ** 30, memoryBytes: 3 * 2 ** 30, memoryReservedBytes: 4 * 2 ** 30 },
      { rank: 1, rssMb: 432, stepSeconds: 0.268, memoryBytes: 3.5 * 2 ** 30 }
    ])
    expect(parseDevices(undefined)).toEqual([])
    const metrics = deviceMetrics(devices)
    expect(Object.keys(metrics).sort()).toEqual(
      ['pid@0', 'rssMb@0', 'peakRssMb@0', 'stepSeconds@0', 'memoryAllocatedBytes@0', 'memoryBytes@0', 'memoryReservedBytes@0', 'rssMb@1', 'stepSeconds@1', 'memoryBytes@1'].sort()
    )
    expect(metrics['rssMb@1']).toBe(432)
    const split = splitDeviceMetrics({ loss: 3.5, rssMb: 400, ...metrics })
    expect(split.values).toEqual({ loss: 3.5, rssMb: 400 })
    expect(split.devices).toEqual(devices)
  })

  it('the spread over the ranks for the progress line; none for one device', () => {
    expect(deviceSpread(parseDevices(line))).toBe('mem 411-432 MB, gpu 3072-3584 MB, step 250-268 ms over 2 ranks')
    expect(
      deviceSpread([
        { rank: 0, rssMb: 410 },
        { rank: 1, rssMb: 410.2 }
      ])
    ).toBe('mem 410 MB over 2 ranks')
    expect(deviceSpread([{ rank: 0, rssMb: 410 }])).toBeNull()
  })

  it('the Jobs list takes the spread back off the end of a progress line, and leaves other lines whole', () => {
    const head = 'step 6/6 | loss 10.8142 | lr 4.02e-5 | rss 326/326 MB'
    for (const devices of [
      parseDevices(line),
      [
        { rank: 0, rssMb: 410 },
        { rank: 1, rssMb: 410.2 }
      ],
      [
        { rank: 0, stepSeconds: 1.2 },
        { rank: 1, stepSeconds: 0.9 },
        { rank: 2, stepSeconds: 1.0 }
      ]
    ]) {
      const spread = deviceSpread(devices)!
      expect(splitSpread(`${head} | ${spread}`)).toEqual({ text: head, spread })
    }
    for (const other of [head, 'step 3/6 | loss 10.9 | eta 12s', 'preparing lambada (1/3)', 'mem 410 MB over 2 ranks', `${head} | mem 410 MB over two ranks`, ''])
      expect(splitSpread(other)).toEqual({ text: other, spread: null })
  })

  it("the panel's rows: latest memory and step time, highest peak, GPU memory and optimizer state in MB; the ranks of the latest step", () => {
    const series = {
      'pid@0': cols([11, 11, 11]),
      'rssMb@0': cols([400, 420, 410]),
      'peakRssMb@0': cols([400, 430, 425]),
      'stepSeconds@0': cols([0.3, 0.5, 0.2]),
      'memoryBytes@0': cols([2 ** 30, 2 ** 31, 2 ** 30]),
      'optimizerStateBytes@0': cols([3 * 2 ** 20, 3 * 2 ** 20, 3 * 2 ** 20]),
      'pid@1': cols([12, 12, 12]),
      'rssMb@1': cols([401, 421, 440]),
      'peakRssMb@1': cols([401, 421, 440]),
      'stepSeconds@1': cols([0.35, 0.1, 0.4]),
      // Rank 2 trained the first step only (the run was resumed on two devices).
      'rssMb@2': cols([390]),
      rssMb: cols([400, 420, 410])
    }
    const rows = deviceRows(series)
    expect(rows).toEqual([
      { rank: 0, pid: 11, rssMb: 410, peakRssMb: 430, stepMs: 200, gpuAllocatedMb: null, gpuPeakMb: 2048, gpuReservedMb: null, optimizerStateMb: 3 },
      { rank: 1, pid: 12, rssMb: 440, peakRssMb: 440, stepMs: 400, gpuAllocatedMb: null, gpuPeakMb: null, gpuReservedMb: null, optimizerStateMb: null }
    ])
    expect(deviceRows({ rssMb: cols([1]) })).toEqual([])
    const charts = deviceCharts(series, 100)
    expect(charts.map((c) => c.key)).toEqual(['device-memory', 'device-step'])
    expect(charts[0].lines.map((l) => l.label)).toEqual(['rank 0', 'rank 1'])
    expect(charts[0].title).toBe('RSS per device (MB; blue: rank 0, red: rank 1)')
    expect(charts[1].lines[1].points.at(-1)).toEqual({ x: 3, y: 400 })
    expect(deviceCharts({ 'rssMb@0': cols([400]) }, 100)).toEqual([])
  })
})
