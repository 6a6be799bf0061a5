// The run page's throughput & memory figures (src/shared/throughput-figures.ts)
// from metric series as the trainer stores them: medians over the last steps, the latest split,
// the highest peak RSS, GPU memory in MB, the peak's derivation from the job log, and the charts.
import { describe, expect, it } from 'vitest'
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
