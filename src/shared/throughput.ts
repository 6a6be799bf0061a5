// Model FLOPs utilisation: the model's training FLOPs per token, the TFLOP/s a step achieved and
// its share of the device's peak (MFU), with the peak itself derived and explained: a CPU's from
// its cores, SIMD lanes, FMA units and clock (the text of /proc/cpuinfo), a GPU's from a table of
// known parts. Pure functions (no Node): src/core/engine/device-peak.ts reads the files.
//
// Convention (PaLM, Chowdhery et al. 2022, appendix B; nanoGPT's estimate_mfu): FLOPs per token =
// 6·N + 12·L·T·C, N the weights that take part in a matmul (the tied embedding counted once, as
// the lm head; position embeddings left out), L layers, T the context, C the width. 6·N is 2
// forward + 4 backward per weight; 12·L·T·C is attention's QK^T and AV (2·T·C each forward, x3
// with the backward). Activation recomputation is not counted (it is MFU, not HFU).
import { flopsPerToken } from './config/estimates'
import type { ModelConfig } from './config/model'

export { flopsPerToken }

/** Model TFLOP/s for a step: tokens/s x FLOPs per token / 1e12. */
export function modelTflops(model: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>, tokensPerSec: number): number {
  return (flopsPerToken(model) * tokensPerSec) / 1e12
}

/** Model FLOPs utilisation: achieved / peak, 0..1. */
export function mfu(tflops: number, peakTflops: number): number {
  return peakTflops > 0 ? tflops / peakTflops : NaN
}

export interface DevicePeak {
  /** Peak dense TFLOP/s at the precision the engine trains in. */
  tflops: number
  precision: 'fp32' | 'bf16'
  /** How it was found, for people: "2 cores x 8 fp32 lanes (AVX2) x 2 FMA units x 2 FLOPs x 2.45 GHz". */
  derivation: string
  source: 'cpuinfo' | 'measured' | 'table'
  /** A CPU's SIMD width in 32-bit lanes, where known: the engine's share of the peak depends on it (estimates.ts cpuEfficiency). */
  lanes?: number
}

export interface CpuFacts {
  cores: number
  /** SIMD width in 32-bit lanes: 16 with AVX-512F, 8 with AVX2/AVX, 4 with SSE. */
  lanes: number
  simd: string
  /** FMA units per core: 2 where FMA is present (every AVX2 core since Haswell / Zen 2; assumed), else 1 multiply + 1 add counted as one. */
  fmaUnits: number
  fma: boolean
  ghz: number
  clockSource: string
  model: string
}

/**
 * Reads what the peak needs from /proc/cpuinfo's text. `maxFreqKHz` is cpufreq's
 * cpuinfo_max_freq where the kernel exposes it (VMs often do not); else the first "cpu MHz".
 * `cores` defaults to the number of "processor" entries (logical CPUs the workers may use).
 */
export function cpuFacts(cpuinfo: string, opts: { maxFreqKHz?: number | null; cores?: number } = {}): CpuFacts {
  const first = cpuinfo.split(/\n\s*\n/)[0] ?? ''
  const field = (name: string): string | undefined => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1]?.trim()
  const flags = new Set((field('flags') ?? field('Features') ?? '').split(/\s+/))
  const processors = (cpuinfo.match(/^processor\s*:/gm) ?? []).length
  const cores = opts.cores ?? Math.max(1, processors)
  const [lanes, simd] = flags.has('avx512f')
    ? [16, 'AVX-512F']
    : flags.has('avx2')
      ? [8, 'AVX2']
      : flags.has('avx')
        ? [8, 'AVX']
        : flags.has('sse2')
          ? [4, 'SSE2']
          : [4, 'no x86 SIMD flags; 4 lanes assumed']
  const fma = flags.has('fma') || flags.has('avx512f')
  let ghz: number
  let clockSource: string
  if (opts.maxFreqKHz && opts.maxFreqKHz > 0) {
    ghz = opts.maxFreqKHz / 1e6
    clockSource = 'cpuinfo_max_freq'
  } else {
    const mhz = Number(field('cpu MHz'))
    ghz = Number.isFinite(mhz) && mhz > 0 ? mhz / 1000 : NaN
    clockSource = 'cpu MHz'
  }
  return { cores, lanes, simd, fmaUnits: fma ? 2 : 1, fma, ghz, clockSource, model: field('model name') ?? 'unknown CPU' }
}

/** The CPU's fp32 peak: cores x lanes x FMA units x 2 FLOPs per FMA x clock, with the arithmetic written out. */
export function cpuPeak(facts: CpuFacts): DevicePeak {
  const gflops = facts.cores * facts.lanes * facts.fmaUnits * 2 * facts.ghz
  const units = facts.fma ? `${facts.fmaUnits} FMA units x 2 FLOPs` : `no FMA: 1 mul + 1 add (x ${facts.fmaUnits} x 2 FLOPs)`
  const derivation = `${facts.model}: ${facts.cores} cores x ${facts.lanes} fp32 lanes (${facts.simd}) x ${units} x ${facts.ghz.toFixed(2)} GHz (${facts.clockSource}) = ${gflops.toFixed(1)} GFLOP/s`
  return { tflops: gflops / 1000, precision: 'fp32', derivation, source: 'cpuinfo', lanes: facts.lanes }
}

/** Peak dense TFLOP/s of known GPUs from their vendors' data sheets (tensor cores for bf16; plain fp32, not TF32). */
export const GPU_PEAKS: { match: RegExp; name: string; bf16: number; fp32: number }[] = [
  { match: /H200/i, name: 'H200 SXM', bf16: 989, fp32: 67 },
  { match: /H100.*PCIe/i, name: 'H100 PCIe', bf16: 756, fp32: 51 },
  { match: /H100/i, name: 'H100 SXM', bf16: 989, fp32: 67 },
  { match: /A100/i, name: 'A100', bf16: 312, fp32: 19.5 },
  { match: /L40S/i, name: 'L40S', bf16: 362, fp32: 91.6 },
  { match: /\bL4\b/i, name: 'L4', bf16: 121, fp32: 30.3 },
  { match: /A10\b/i, name: 'A10', bf16: 125, fp32: 31.2 },
  { match: /RTX 4090/i, name: 'RTX 4090', bf16: 165.2, fp32: 82.6 },
  { match: /RTX 3090/i, name: 'RTX 3090', bf16: 71, fp32: 35.6 },
  { match: /RTX A6000/i, name: 'RTX A6000', bf16: 154.8, fp32: 38.7 },
  { match: /V100/i, name: 'V100 (fp16 for bf16: no bf16 support)', bf16: 125, fp32: 15.7 },
  { match: /T4\b/i, name: 'T4 (fp16 for bf16: no bf16 support)', bf16: 65, fp32: 8.1 }
]

/** A GPU's peak by its name (as nvidia-smi or torch prints it), or null for a part not in the table. */
export function gpuPeak(name: string, precision: 'fp32' | 'bf16'): DevicePeak | null {
  const row = GPU_PEAKS.find((r) => r.match.test(name))
  if (!row) return null
  return { tflops: row[precision], precision, derivation: `${name}: ${row.name} data sheet, ${precision} dense ${row[precision]} TFLOP/s`, source: 'table' }
}

/** A peak from a measured GEMM: 2·m·n·k FLOPs per product over the best time. */
export function measuredPeak(m: number, n: number, k: number, seconds: number, what: string): DevicePeak {
  const tflops = (2 * m * n * k) / seconds / 1e12
  return { tflops, precision: 'fp32', derivation: `measured: ${what} ${m}x${k} @ ${k}x${n} in ${(seconds * 1000).toFixed(2)} ms = ${(tflops * 1000).toFixed(1)} GFLOP/s`, source: 'measured' }
}
