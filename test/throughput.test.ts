// MFU arithmetic (src/shared/throughput.ts): FLOPs per token in PaLM's convention, model TFLOP/s
// and MFU for a known model and step time, the CPU peak derived from cpuinfo text, the GPU table,
// and the measured GEMM on the native addon; then the trainer's step metrics carry the fields.
import os from 'node:os'
import { describe, expect, it } from 'vitest'
import { cpuFacts, cpuPeak, flopsPerToken, gpuPeak, measuredPeak, mfu, modelTflops } from '../src/shared/throughput'
import { cpuPeakHere, measuredCpuPeak, runPeak } from '../src/core/engine/device-peak'
import { initBackend } from '../src/core/engine/backend'
import { GPT, initParams } from '../src/core/engine/model'
import { loadNative } from '../src/core/engine/native'
import { Trainer, progressLine } from '../src/core/engine/trainer'
import { inlineContext } from '../src/core/job-context'
import { TrainConfig } from '../src/shared/config/train'

const GPT2_SMALL = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257 }

describe('model FLOPs and MFU', () => {
  it('GPT-2 small: 6N + 12·L·T·C per token, TFLOP/s and MFU for a known step time', () => {
    // N by hand: wte 50304 x 768 (vocabulary padded to 64) + 12 layers x (12·C² + 13·C) + final LN 2·C; wpe left out.
    const n = 50304 * 768 + 12 * (12 * 768 * 768 + 13 * 768) + 2 * 768
    expect(n).toBe(123_689_472)
    const perToken = 6 * n + 12 * 12 * 1024 * 768
    expect(flopsPerToken(GPT2_SMALL)).toBe(perToken)
    expect(perToken).toBe(855_383_040)
    // 8 sequences of 1024 tokens in 0.5 s on an A100 (312 bf16 TFLOP/s).
    const tokensPerSec = (8 * 1024) / 0.5
    const tflops = modelTflops(GPT2_SMALL, tokensPerSec)
    expect(tflops).toBeCloseTo(14.0146, 3)
    expect(mfu(tflops, gpuPeak('NVIDIA A100-SXM4-80GB', 'bf16')!.tflops)).toBeCloseTo(0.044919, 5)
  })

  it('the CPU peak from cpuinfo text: cores x lanes x FMA units x 2 x clock, with the derivation', () => {
    const block = (i: number, flags: string, mhz: string): string => `processor\t: ${i}\nmodel name\t: Test CPU @ 2.45GHz\ncpu MHz\t\t: ${mhz}\nflags\t\t: fpu sse sse2 avx ${flags}\n`
    const avx2 = [0, 1].map((i) => block(i, 'avx2 fma', '2450.000')).join('\n')
    const facts = cpuFacts(avx2)
    expect(facts).toMatchObject({ cores: 2, lanes: 8, simd: 'AVX2', fmaUnits: 2, ghz: 2.45, clockSource: 'cpu MHz', model: 'Test CPU @ 2.45GHz' })
    const peak = cpuPeak(facts)
    expect(peak.tflops * 1000).toBeCloseTo(156.8, 6)
    expect(peak.derivation).toBe('Test CPU @ 2.45GHz: 2 cores x 8 fp32 lanes (AVX2) x 2 FMA units x 2 FLOPs x 2.45 GHz (cpu MHz) = 156.8 GFLOP/s')
    // AVX-512 with cpufreq's max clock (kHz) preferred over the current "cpu MHz", 4 cores asked for.
    const avx512 = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => block(i, 'avx2 fma avx512f', '1200.000')).join('\n')
    const p512 = cpuPeak(cpuFacts(avx512, { maxFreqKHz: 3_500_000, cores: 4 }))
    expect(p512.tflops * 1000).toBeCloseTo(4 * 16 * 2 * 2 * 3.5, 6)
    expect(p512.derivation).toContain('(AVX-512F)')
    expect(p512.derivation).toContain('3.50 GHz (cpuinfo_max_freq)')
    // No FMA: one multiply and one add per lane and cycle.
    const noFma = cpuPeak(cpuFacts(block(0, '', '2000')))
    expect(noFma.tflops * 1000).toBeCloseTo(1 * 8 * 1 * 2 * 2, 6)
  })

  it('GPU peaks by name, null for an unknown part', () => {
    expect(gpuPeak('NVIDIA H100 80GB HBM3', 'bf16')!.tflops).toBe(989)
    expect(gpuPeak('NVIDIA H100 PCIe', 'bf16')!.tflops).toBe(756)
    expect(gpuPeak('NVIDIA H200', 'fp32')!.tflops).toBe(67)
    expect(gpuPeak('NVIDIA GeForce RTX 4090', 'bf16')!.tflops).toBe(165.2)
    expect(gpuPeak('NVIDIA L4', 'bf16')!.tflops).toBe(121)
    expect(gpuPeak('Some Future Accelerator', 'bf16')).toBeNull()
    expect(runPeak(['gpu:0', 'gpu:1'], 'NVIDIA A100-SXM4-40GB', 'bf16')!.tflops).toBe(624)
    expect(runPeak(['gpu:0'], null)).toBeNull()
  })

  it("this machine's CPU peak, and a measured GEMM that stays below it", () => {
    const here = cpuPeakHere()
    expect(here.tflops).toBeGreaterThan(0)
    expect(here.derivation).toContain(`${os.availableParallelism()} cores x`)
    expect(runPeak(['cpu:0', 'cpu:1'])).toEqual(here)
    expect(measuredPeak(100, 100, 100, 0.001, 'x').tflops).toBeCloseTo(0.002, 9)
    if (!loadNative().kernels) return
    const measured = measuredCpuPeak(256, 3)!
    expect(measured.source).toBe('measured')
    expect(measured.tflops).toBeGreaterThan(0)
    // Shared cores and turbo clocks aside, a GEMM cannot beat the arithmetic by much.
    expect(measured.tflops).toBeLessThan(here.tflops * 1.5)
  })

  it("the trainer's step metrics carry TFLOP/s, MFU, the step time split, RSS and ETA, and the progress line prints them", async () => {
    await initBackend('cpu')
    const shape = { nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 16, vocabSize: 300, dropout: 0, layerNormEps: 1e-5 }
    const config = TrainConfig.parse({ model: shape, batchSize: 4, steps: 3, seed: 3, devices: ['cpu:0'] })
    const train = Uint16Array.from({ length: 2000 }, (_, i) => (i * 37) % 300)
    const trainer = new Trainer({ config, model: new GPT(config.model, initParams(config.model, 3)), train, val: null, ctx: inlineContext() })
    const started = process.hrtime.bigint()
    const m = await trainer.step()
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6
    expect(m.tflops).toBeCloseTo((flopsPerToken(config.model) * m.tokensPerSec) / 1e12, 12)
    expect(m.peakTflops).toBe(cpuPeakHere().tflops)
    expect(m.mfu).toBeCloseTo(m.tflops! / cpuPeakHere().tflops, 12)
    expect(m.fwdBwdMs).toBeGreaterThan(0)
    expect(m.optimizerMs).toBeGreaterThan(0)
    expect(m.dataMs).toBeGreaterThanOrEqual(0)
    expect(m.allReduceMs).toBeUndefined()
    expect(m.fwdBwdMs! + m.optimizerMs! + m.dataMs!).toBeLessThanOrEqual(wallMs)
    expect(m.fwdBwdMs! + m.optimizerMs! + m.dataMs!).toBeLessThanOrEqual(m.elapsed * 1000 + 1e-6)
    expect(m.rssMb).toBeGreaterThan(10)
    expect(m.peakRssMb).toBeGreaterThanOrEqual(m.rssMb! - 1)
    expect(m.etaSeconds).toBeCloseTo(2 * m.elapsed, 9)
    const line = progressLine(m, 3)
    expect(line).toMatch(/ \| [\d.]+ [GT]FLOP\/s mfu [\d.]+% \| fwd\+bwd \d+ms opt \d+ms data [\d.]+ms \| rss \d+\/\d+ MB \| eta /)
  })
})
