// What a training config costs, shown live in the editor: parameters, tokens per step, memory per
// device and time per step. Time comes from a measured run where a comparable one exists, else
// from a FLOP count at the CPU's probed peak times the engine's measured efficiency (or, with no
// probe, an assumed speed), said so in `source` and, for the CPU, worked out in `derivation`.
import type { DevicePeak } from '../throughput'
import { type ModelConfig, paddedVocab, parameterCount } from './model'
import type { TrainConfig } from './train'

/** Sustained float32 speed assumed when no run has been measured yet, per device worker (the CPU's only when the host reports no peak). */
export const ASSUMED_FLOPS = {
  /** What this project's wasm backend sustains per CPU worker on a small laptop-class CPU. */
  cpu: 5e9,
  /** A conservative figure for tfjs float32 on a current data-centre GPU. */
  gpu: 1e13
}

/** The embedded engine's measured share of a CPU's fp32 peak at one model width. */
export interface EfficiencyPoint {
  nEmbd: number
  efficiency: number
  measured: string
}

/**
 * The share of the CPU's fp32 peak (cores x SIMD lanes x FMA x clock, the device probe's figure)
 * the embedded engine sustains in training, by SIMD width and model width: small matmuls, the
 * vocabulary-wide softmax and the optimizer keep a narrow model far below peak, and an AVX-512
 * core's peak is twice an AVX2 core's at the same clock while that memory-bound work does not
 * speed up with it. Measured on the native kernels on 2-core machines; FLOPs as flopsPerToken counts them.
 */
export const CPU_EFFICIENCY: { lanes: number; cpu: string; points: EfficiencyPoint[] }[] = [
  {
    lanes: 16,
    cpu: 'Intel Xeon, AVX-512, peak 268.8 GFLOP/s',
    points: [
      { nEmbd: 128, efficiency: 0.2, measured: 'tiny-cpu (2 x 128, context 64, batch 16): 0.78 s of CPU time per step on 2 threads, 54 GFLOP/s' },
      { nEmbd: 256, efficiency: 0.3, measured: 'bench (4 x 256, context 128, batch 8): 906 tokens/s idle (README), 89 GFLOP/s; 1.29 s of CPU time per step, 78 GFLOP/s' }
    ]
  },
  {
    lanes: 8,
    cpu: 'AMD EPYC (family 25), AVX2, peak 166.2 GFLOP/s',
    points: [
      { nEmbd: 128, efficiency: 0.43, measured: 'tiny-cpu: 0.581 s of CPU time per step on 2 threads, 72.6 GFLOP/s' },
      { nEmbd: 256, efficiency: 0.46, measured: 'bench: 802 tokens/s (npm run bench, 2 rounds), 77.4 GFLOP/s' }
    ]
  }
]
/** Below the narrowest width measured the share keeps falling at the same rate per doubling, to this floor. */
const MIN_CPU_EFFICIENCY = 0.05

const WIDEST_FIRST = [...CPU_EFFICIENCY].sort((a, b) => b.lanes - a.lanes)

/** The points measured on the widest SIMD at most `lanes` wide (the narrowest table for narrower SIMD); unknown lanes: the widest SIMD's, the lowest shares (errs long). */
export function efficiencyPoints(lanes?: number): EfficiencyPoint[] {
  if (lanes === undefined) return WIDEST_FIRST[0].points
  return (WIDEST_FIRST.find((t) => t.lanes <= lanes) ?? WIDEST_FIRST[WIDEST_FIRST.length - 1]).points
}

/** The engine's share of the peak of a CPU with `lanes`-wide SIMD for a model of width `nEmbd`: its points interpolated by log width; the widest point's share above it (no wider model was measured: errs long). */
export function cpuEfficiency(nEmbd: number, lanes?: number): number {
  const points = efficiencyPoints(lanes)
  const last = points[points.length - 1]
  if (nEmbd >= last.nEmbd) return last.efficiency
  // The measured pair around nEmbd; below the first point, the first pair's slope carried on.
  const i = Math.max(
    1,
    points.findIndex((p) => p.nEmbd > nEmbd)
  )
  const [lo, hi] = [points[i - 1], points[i]]
  const t = Math.log2(nEmbd / lo.nEmbd) / Math.log2(hi.nEmbd / lo.nEmbd)
  return Math.max(MIN_CPU_EFFICIENCY, lo.efficiency + t * (hi.efficiency - lo.efficiency))
}

/**
 * Training FLOPs per token: 6 per weight that takes part in a matmul (2 forward, 4 backward;
 * the tied embedding counts once, as the lm head) plus attention's two T x T products
 * (QK^T and AV, 2·T·C each forward, 3x with the backward) in every layer.
 */
export function flopsPerToken(m: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>): number {
  const matmulParams = parameterCount(m) - m.nCtx * m.nEmbd
  return 6 * matmulParams + 12 * m.nLayer * m.nEmbd * m.nCtx
}

export interface MemoryEstimate {
  /** Parameters, gradients and AdamW's two moments, float32: 16 bytes per parameter, less this device's share with sharding. */
  state: number
  /** Activations kept for the backward pass of one micro-batch. */
  activations: number
  /** Logits, their softmax and gradient for one micro-batch: 3 x b x T x padded vocab x 4 bytes. */
  logits: number
  /** The process itself before it allocates a model (Node.js, tfjs, native kernels, token shards): ENGINE_OVERHEAD_BYTES. */
  engine: number
  total: number
}

/**
 * What an embedded-engine worker holds beyond state + activations + logits: Node.js, tfjs, the
 * native kernels, the token shards and transient buffers the formula does not count. Calibrated
 * on peak RSS of 6-step runs (native backend, 2 cores): tiny-cpu 841 MB measured vs 716 MB
 * counted, small-cpu 1570 vs 1403, bench 1227 vs 923; the largest residual (304 MB) rounded up.
 * With it the total is 1-23% above those measurements. The PyTorch process (CPython + torch) is of
 * the same order.
 */
export const ENGINE_OVERHEAD_BYTES = 320 * 2 ** 20

/** Element counts of the model's parameter tensors in AdamW's two groups, in the model's order: decayed (matrices, embeddings), then the rest (biases, LayerNorm gains). */
function parameterTensors(m: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>): { decay: number[]; noDecay: number[] } {
  const C = m.nEmbd
  const decay = [paddedVocab(m.vocabSize) * C, m.nCtx * C]
  const noDecay: number[] = []
  for (let i = 0; i < m.nLayer; i++) {
    decay.push(C * 3 * C, C * C, C * 4 * C, 4 * C * C)
    noDecay.push(C, C, 3 * C, C, C, C, 4 * C, C)
  }
  noDecay.push(C, C)
  return { decay, noDecay }
}

/**
 * Parameters whose AdamW moments each rank holds under sharding `optimizer` (ZeRO stage 1): torch's
 * ZeroRedundancyOptimizer partition, whole tensors, in each group the largest first to the rank
 * holding the fewest so far. One large tensor (the embedding) can leave a rank far above 1/N.
 */
export function zeroShares(m: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>, ranks: number): number[] {
  const sizes = new Array<number>(Math.max(1, ranks)).fill(0)
  const { decay, noDecay } = parameterTensors(m)
  for (const group of [decay, noDecay]) {
    for (const n of [...group].sort((a, b) => b - a)) {
      const least = sizes.indexOf(Math.min(...sizes))
      sizes[least] += n
    }
  }
  return sizes
}

/**
 * Training state bytes on the fullest device: 16 per parameter (weights, gradients, two moments);
 * with sharding `optimizer` the moments of the largest ZeRO share only; with `full` (FSDP) a 1/N
 * slice of everything plus, while a unit computes, the root unit's and one block's whole weights
 * and gradients (an estimate: FSDP has not run in this project's tests).
 */
function stateBytes(c: Pick<TrainConfig, 'model' | 'devices'> & Partial<Pick<TrainConfig, 'sharding'>>): number {
  const P = parameterCount(c.model)
  const ranks = c.devices.length
  if (ranks < 2 || (c.sharding ?? 'none') === 'none') return P * 16
  if (c.sharding === 'optimizer') return P * 8 + Math.max(...zeroShares(c.model, ranks)) * 8
  const C = c.model.nEmbd
  const gathered = (paddedVocab(c.model.vocabSize) + c.model.nCtx + 2) * C + 12 * C * C + 13 * C
  return Math.ceil((P * 16) / ranks) + gathered * 8
}

/**
 * Bytes one device holds. Activations follow Korthikanti et al. (2022), 34·s·b·h + 5·a·s²·b bytes
 * per layer at 16 bits, doubled for float32. With activation checkpointing (embedded engine) each
 * layer keeps only its input (s·b·h float32) and one layer at a time holds its recomputed
 * activations and their gradients (counted as two layers' worth).
 */
export function memoryPerDevice(
  c: Pick<TrainConfig, 'model' | 'batchSize' | 'microBatches' | 'devices'> & Partial<Pick<TrainConfig, 'activationCheckpointing' | 'engine' | 'sharding'>>
): MemoryEstimate {
  const { nLayer: L, nEmbd: C, nHead: H, nCtx: T } = c.model
  const b = Math.max(1, c.batchSize / Math.max(1, c.devices.length) / Math.max(1, c.microBatches))
  const state = stateBytes(c)
  const layer = b * T * (34 * C + 5 * H * T) * 2
  // The embedded engine checkpoints; the PyTorch engine (or auto, which may pick it) keeps every activation.
  const checkpointed = c.activationCheckpointing === true && (c.engine ?? 'embedded') === 'embedded'
  const activations = checkpointed ? L * b * T * C * 4 + 2 * layer : L * layer
  const logits = 3 * b * T * paddedVocab(c.model.vocabSize) * 4
  const engine = ENGINE_OVERHEAD_BYTES
  return { state, activations, logits, engine, total: state + activations + logits + engine }
}

/**
 * Bytes a process holds to run a checkpoint forward (eval, generation): float32 weights, one
 * sequence's forward activations (counted as if kept, an upper bound), its logits and softmax, and
 * the engine. No gradients or optimizer moments.
 */
export function inferenceMemory(m: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nHead' | 'nCtx' | 'vocabSize'>): MemoryEstimate {
  const state = parameterCount(m) * 4
  const activations = m.nLayer * m.nCtx * (34 * m.nEmbd + 5 * m.nHead * m.nCtx) * 2
  const logits = 2 * m.nCtx * paddedVocab(m.vocabSize) * 4
  const engine = ENGINE_OVERHEAD_BYTES
  return { state, activations, logits, engine, total: state + activations + logits + engine }
}

/** A finished or running run whose measured speed can stand for this config's. */
export interface MeasuredRun {
  runId: number
  config: Pick<TrainConfig, 'model' | 'batchSize' | 'microBatches' | 'devices' | 'backend'>
  tokensPerSec: number
  backend: string | null
}

export interface StepTimeEstimate {
  seconds: number
  /** A sentence saying where the number comes from. */
  source: string
  kind: 'measured' | 'scaled' | 'assumed'
  /** For an estimate from the CPU's peak: the arithmetic (peak x efficiency = rate; the peak's own derivation). */
  derivation?: string
}

const sameShape = (a: MeasuredRun['config'], b: MeasuredRun['config']): boolean =>
  a.batchSize === b.batchSize && a.microBatches === b.microBatches && JSON.stringify(a.model) === JSON.stringify(b.model)

/** The measured run to trust for `config`: same devices and backend choice; the same shape first. */
export function pickReference(config: MeasuredRun['config'], runs: MeasuredRun[]): MeasuredRun | null {
  const comparable = runs.filter((r) => r.tokensPerSec > 0 && r.config.backend === config.backend && r.config.devices.join() === config.devices.join())
  return comparable.find((r) => sameShape(r.config, config)) ?? comparable[0] ?? null
}

/**
 * Seconds per step of `config`: from a measured run of the same shape, else scaled by FLOPs from a
 * run on the same devices, else the FLOP count at the devices' speed: for CPU workers (which share
 * the CPU) its probed peak `cpuPeak` times cpuEfficiency, for GPUs an assumed figure.
 */
export function estimateStepTime(config: MeasuredRun['config'], reference: MeasuredRun | null, cpuPeak: DevicePeak | null = null): StepTimeEstimate {
  const tokensPerStep = config.batchSize * config.model.nCtx
  const flops = tokensPerStep * flopsPerToken(config.model)
  if (reference && sameShape(reference.config, config)) {
    return {
      seconds: tokensPerStep / reference.tokensPerSec,
      kind: 'measured',
      source: `measured: run #${reference.runId} trained this shape at ${Math.round(reference.tokensPerSec).toLocaleString('en-US')} tokens/s${reference.backend ? ` on ${reference.backend}` : ''}`
    }
  }
  if (reference) {
    const achieved = reference.tokensPerSec * flopsPerToken(reference.config.model)
    return { seconds: flops / achieved, kind: 'scaled', source: `scaled by FLOPs from run #${reference.runId} on the same devices (${formatFlops(achieved)} achieved)` }
  }
  const gpus = config.devices.filter((d) => d.startsWith('gpu')).length
  const cpus = config.devices.length - gpus
  if (cpus && !gpus && cpuPeak && cpuPeak.tflops > 0) {
    const efficiency = cpuEfficiency(config.model.nEmbd, cpuPeak.lanes)
    const rate = cpuPeak.tflops * 1e12 * efficiency
    return {
      seconds: flops / rate,
      kind: 'assumed',
      source: `FLOP estimate (6 x weights + attention per token) at this CPU's peak x the engine's measured efficiency; a run on these devices replaces it with a measurement`,
      derivation: `${formatFlops(cpuPeak.tflops * 1e12)} peak x ${Math.round(efficiency * 100)}% (width ${config.model.nEmbd}) = ${formatFlops(rate)}; peak: ${cpuPeak.derivation}`
    }
  }
  const speed = gpus * ASSUMED_FLOPS.gpu + cpus * ASSUMED_FLOPS.cpu
  const assumed = [gpus ? `${formatFlops(ASSUMED_FLOPS.gpu)} per GPU` : '', cpus ? `${formatFlops(ASSUMED_FLOPS.cpu)} per CPU worker` : ''].filter(Boolean).join(' and ')
  return { seconds: flops / speed, kind: 'assumed', source: `FLOP estimate (6 x weights + attention per token) at an assumed ${assumed}; a run on these devices replaces it with a measurement` }
}

export function formatFlops(flopsPerSec: number): string {
  if (flopsPerSec >= 1e12) return `${(flopsPerSec / 1e12).toFixed(1)} TFLOP/s`
  if (flopsPerSec >= 1e9) return `${(flopsPerSec / 1e9).toFixed(1)} GFLOP/s`
  return `${(flopsPerSec / 1e6).toFixed(0)} MFLOP/s`
}
