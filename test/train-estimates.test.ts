// The Train view's live estimates: FLOPs per token and memory per device against hand-worked
// figures for GPT-2 small, which measured run (if any) sets the time per step, and without one the
// CPU's probed peak times the engine's efficiency for the model's width.
import { describe, expect, it } from 'vitest'
import { type MeasuredRun, ASSUMED_FLOPS, CPU_EFFICIENCY, cpuEfficiency, efficiencyPoints, estimateStepTime, flopsPerToken, memoryPerDevice, pickReference } from '../src/shared/config/estimates'
import { type DevicePeak, cpuPeak } from '../src/shared/throughput'
import { TrainConfig } from '../src/shared/config/train'

const gpt2Small = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257 }

describe('flopsPerToken', () => {
  it('is 6 x matmul weights + 12 x layers x width x context', () => {
    // Hugging Face GPT-2 small has 124,439,808 parameters; padding the vocabulary to 50,304 rows
    // adds 47 x 768. The 1024 x 768 position table is a lookup, not a matmul.
    const matmul = 124_439_808 + 47 * 768 - 1024 * 768
    expect(flopsPerToken(gpt2Small)).toBe(6 * matmul + 12 * 12 * 768 * 1024)
  })
})

describe('memoryPerDevice', () => {
  it('counts float32 state, activations and logits for one micro-batch on one device', () => {
    const m = memoryPerDevice({ model: { ...gpt2Small, dropout: 0, layerNormEps: 1e-5 }, batchSize: 1, microBatches: 1, devices: ['gpu:0'] })
    expect(m.state).toBe((124_439_808 + 47 * 768) * 16)
    expect(m.activations).toBe(12 * 1024 * (34 * 768 + 5 * 12 * 1024) * 2)
    expect(m.logits).toBe(3 * 1024 * 50_304 * 4)
    expect(m.total).toBe(m.state + m.activations + m.logits + m.engine)
  })

  it('splits the batch over devices and micro-batches', () => {
    const base = { model: { ...gpt2Small, dropout: 0, layerNormEps: 1e-5 }, microBatches: 1 }
    const one = memoryPerDevice({ ...base, batchSize: 1, devices: ['gpu:0'] })
    const eight = memoryPerDevice({ ...base, batchSize: 8, microBatches: 2, devices: ['gpu:0', 'gpu:1'] })
    expect(eight.activations).toBe(2 * one.activations)
    expect(eight.state).toBe(one.state)
  })

  it('with activation checkpointing on the embedded engine: each layer keeps its input, one layer is recomputed at a time', () => {
    const base = { model: { ...gpt2Small, dropout: 0, layerNormEps: 1e-5 }, batchSize: 1, microBatches: 1, devices: ['cpu:0'] }
    const layer = 1024 * (34 * 768 + 5 * 12 * 1024) * 2
    const on = memoryPerDevice({ ...base, activationCheckpointing: true })
    expect(on.activations).toBe(12 * 1024 * 768 * 4 + 2 * layer)
    expect(on.activations).toBeLessThan(memoryPerDevice(base).activations / 5)
    // The PyTorch engine does not checkpoint: it is counted with every activation kept.
    expect(memoryPerDevice({ ...base, activationCheckpointing: true, engine: 'pytorch' }).activations).toBe(12 * layer)
  })
})

describe('estimateStepTime', () => {
  const tiny = TrainConfig.parse({ model: { nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 64 }, batchSize: 8, steps: 10 })
  const run = (runId: number, over: Partial<TrainConfig>, tokensPerSec: number): MeasuredRun => ({ runId, config: { ...tiny, ...over }, tokensPerSec, backend: 'wasm (threads)' })

  it('uses a measured run of the same shape directly', () => {
    const ref = pickReference(tiny, [run(1, { batchSize: 4 }, 300), run(2, {}, 256)])
    expect(ref?.runId).toBe(2)
    const t = estimateStepTime(tiny, ref)
    expect(t.kind).toBe('measured')
    expect(t.seconds).toBeCloseTo((8 * 64) / 256, 12)
    expect(t.source).toContain('run #2')
  })

  it('scales by FLOPs from a run of another shape on the same devices', () => {
    const ref = pickReference(tiny, [run(1, { batchSize: 4 }, 300)])
    const t = estimateStepTime(tiny, ref)
    expect(t.kind).toBe('scaled')
    // Same model, twice the batch: twice the tokens at the same FLOP rate.
    expect(t.seconds).toBeCloseTo((2 * (4 * 64)) / 300, 9)
  })

  it('ignores runs on other devices or backends and falls back to the stated assumption', () => {
    const ref = pickReference(tiny, [run(1, { devices: ['cpu:0', 'cpu:1'] }, 300), run(2, { backend: 'cpu' }, 300), run(3, {}, 0)])
    expect(ref).toBeNull()
    const t = estimateStepTime(tiny, null)
    expect(t.kind).toBe('assumed')
    expect(t.seconds).toBeCloseTo((8 * 64 * flopsPerToken(tiny.model)) / ASSUMED_FLOPS.cpu, 9)
    expect(t.source).toContain('5.0 GFLOP/s per CPU worker')
  })
})

describe('the CPU estimate from its peak', () => {
  // The device probe's arithmetic for a 2-core AVX2 CPU at 2.45 GHz: 2 x 8 x 2 x 2 x 2.45 = 156.8 GFLOP/s.
  const peak: DevicePeak = cpuPeak({ cores: 2, lanes: 8, simd: 'AVX2', fmaUnits: 2, fma: true, ghz: 2.45, clockSource: 'cpuinfo_max_freq', model: 'Test CPU' })
  const tiny = TrainConfig.parse({ model: { nLayer: 2, nHead: 4, nEmbd: 128, nCtx: 64 }, batchSize: 16, steps: 400 })

  it("interpolates the engine's measured share of the peak by log width, flat above the widest point, falling below the narrowest to a floor", () => {
    for (const lanes of [8, 16]) {
      const [a, b] = efficiencyPoints(lanes)
      expect(cpuEfficiency(128, lanes)).toBeCloseTo(a.efficiency, 12)
      expect(cpuEfficiency(256, lanes)).toBeCloseTo(b.efficiency, 12)
      expect(cpuEfficiency(181, lanes)).toBeCloseTo((a.efficiency + b.efficiency) / 2, 2)
      expect(cpuEfficiency(768, lanes)).toBe(b.efficiency)
      expect(cpuEfficiency(64, lanes)).toBeCloseTo(2 * a.efficiency - b.efficiency, 12)
      expect(cpuEfficiency(1, lanes)).toBeGreaterThanOrEqual(0.05)
      const widths = [4, 16, 32, 64, 96, 128, 192, 256, 512, 1600]
      for (let i = 1; i < widths.length; i++) expect(cpuEfficiency(widths[i], lanes)).toBeGreaterThanOrEqual(cpuEfficiency(widths[i - 1], lanes))
    }
    expect(cpuEfficiency(4, 16)).toBe(0.05)
  })

  it('takes the shares measured on the SIMD width of the CPU: AVX2 and SSE the AVX2 ones, AVX-512 and an unknown width the lower AVX-512 ones', () => {
    const avx2 = CPU_EFFICIENCY.find((t) => t.lanes === 8)!.points
    const avx512 = CPU_EFFICIENCY.find((t) => t.lanes === 16)!.points
    expect(efficiencyPoints(8)).toBe(avx2)
    expect(efficiencyPoints(4)).toBe(avx2)
    expect(efficiencyPoints(16)).toBe(avx512)
    expect(efficiencyPoints(undefined)).toBe(avx512)
    expect(cpuEfficiency(256, 16)).toBeLessThan(cpuEfficiency(256, 8))
  })

  it('is the FLOP count at peak x efficiency, with the arithmetic written out', () => {
    const t = estimateStepTime(tiny, null, peak)
    expect(t.kind).toBe('assumed')
    expect(peak.tflops).toBeCloseTo(0.1568, 12)
    expect(t.seconds).toBeCloseTo((16 * 64 * flopsPerToken(tiny.model)) / (0.1568e12 * cpuEfficiency(128, 8)), 9)
    expect(t.derivation).toBe(`156.8 GFLOP/s peak x 43% (width 128) = 67.4 GFLOP/s; peak: ${peak.derivation}`)
    expect(t.source).toContain("this CPU's peak")
    // Several CPU workers share the one CPU: the same rate, not one per worker.
    expect(estimateStepTime({ ...tiny, devices: ['cpu:0', 'cpu:1'] }, null, peak).seconds).toBeCloseTo(t.seconds, 12)
    // Far below the old assumed 5 GFLOP/s guess (56 min for the preset's 400 steps).
    expect(estimateStepTime(tiny, null).seconds / t.seconds).toBeGreaterThan(5)
  })

  it('leaves GPUs to their assumed speed and a measured run to its measurement', () => {
    const gpu = estimateStepTime({ ...tiny, devices: ['gpu:0'] }, null, peak)
    expect(gpu.derivation).toBeUndefined()
    expect(gpu.seconds).toBeCloseTo((16 * 64 * flopsPerToken(tiny.model)) / ASSUMED_FLOPS.gpu, 12)
    const measured: MeasuredRun = { runId: 4, config: tiny, tokensPerSec: 2048, backend: 'native' }
    expect(estimateStepTime(tiny, measured, peak)).toMatchObject({ kind: 'measured', seconds: 0.5 })
  })
})
