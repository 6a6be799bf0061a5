// The project's native CPU kernels (native/, an N-API addon built by node-gyp during install).
// Loaded at run time; absent or broken builds return null and the engine uses the stock backends.
import fs from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'

export interface NativeKernels {
  batchMatMul(
    transA: boolean,
    transB: boolean,
    batch: number,
    m: number,
    n: number,
    k: number,
    a: Float32Array,
    aStride: number,
    b: Float32Array,
    bStride: number,
    c: Float32Array,
    accumulate?: boolean,
    /** [n], batch 1 only: added to each finished element of c (the bits of adding it afterwards). */
    bias?: Float32Array
  ): void
  /** c [m, n] = a [m, k] times b [n, k] transposed, for few rows of a (a decode step's lm head against the tied embedding, read where it lies); each element one sum over k in order. */
  rowsTimesTransposed(a: Float32Array, b: Float32Array, m: number, n: number, k: number, c: Float32Array): void
  crossEntropyForward(logits: Float32Array, targets: Int32Array, rows: number, stride: number, vocab: number, lse: Float32Array): number
  crossEntropyBackward(logits: Float32Array, lse: Float32Array, targets: Int32Array, rows: number, stride: number, vocab: number, scale: number, out: Float32Array): void
  /** The tied head and the mean loss with their gradients (times `scale`) into dh [rows, c] and dwte [vp, c], the logits made a piece of rows at a time: the bits of the head, crossEntropyForward, crossEntropyBackward and the two gradient products. */
  tiedHeadLoss(h: Float32Array, wte: Float32Array, targets: Int32Array, rows: number, c: number, vp: number, vocab: number, scale: number, dh: Float32Array, dwte: Float32Array): number
  layerNormForward(x: Float32Array, gamma: Float32Array, beta: Float32Array, rows: number, cols: number, eps: number, y: Float32Array, mean: Float32Array, rstd: Float32Array): void
  layerNormBackward(
    x: Float32Array,
    gamma: Float32Array,
    dy: Float32Array,
    mean: Float32Array,
    rstd: Float32Array,
    rows: number,
    cols: number,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array
  ): void
  geluForward(x: Float32Array, y: Float32Array): void
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array): void
  adamw(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    stepSize: number,
    vCorrection: number
  ): void
  causalSoftmaxForward(s: Float32Array, batch: number, t: number, scale: number, p: Float32Array): void
  causalSoftmaxBackward(p: Float32Array, dp: Float32Array, batch: number, t: number, scale: number, ds: Float32Array): void
  /** Flash-style causal self-attention on the fused qkv [B*T, 3C]: the heads' outputs y [B*T, C] and each attention row's log-sum-exp lse [B*H*T]; no T x T tensor kept. */
  causalAttentionForward(qkv: Float32Array, batch: number, t: number, heads: number, y: Float32Array, lse: Float32Array): void
  /** Its backward: dqkv [B*T, 3C] (every element written) from dy [B*T, C], the probabilities recomputed blockwise from q, k and lse. */
  causalAttentionBackward(qkv: Float32Array, y: Float32Array, dy: Float32Array, lse: Float32Array, batch: number, t: number, heads: number, dqkv: Float32Array): void
  /** out[j] = sum over i of x[i, j] for x [rows, cols]: summed in double in row order and rounded once, the bits of tfjs's cpu Sum over axis 0. */
  columnSums(x: Float32Array, rows: number, cols: number, out: Float32Array): void
  sumSquares(x: Float32Array): number
  /** out[i] = a[i] + b[i] over a's length (out may be a: in place), float32 adds: tfjs's Add's bits, on all threads. */
  add(a: Float32Array, b: Float32Array, out: Float32Array): void
  /** The GEMM's micro-kernel (avx512: the AVX-512 one, which also has avx2) and the pool's threads. */
  info(): { avx2: boolean; avx512: boolean; threads: number }
  setThreads(n: number): void
}

const ADDON = path.join('native', 'build', 'Release', 'gptw_native.node')
let cached: { kernels: NativeKernels | null; reason: string } | null = null

/** Finds the addon above this file (src/core/engine in tests, out/main/... when built). */
function addonPath(): string | null {
  let dir = __dirname
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, ADDON)
    if (fs.existsSync(candidate)) return candidate
    dir = path.dirname(dir)
  }
  return null
}

export function loadNative(): { kernels: NativeKernels | null; reason: string } {
  if (cached) return cached
  if (process.env.GPTW_NATIVE === '0') return (cached = { kernels: null, reason: 'disabled by GPTW_NATIVE=0' })
  const file = addonPath()
  if (!file) return (cached = { kernels: null, reason: 'the native addon is not built (run `npm run build:native`; needs g++ and make)' })
  try {
    const kernels = createRequire(__filename)(file) as NativeKernels
    const threads = Number(process.env.GPTW_THREADS)
    if (Number.isInteger(threads) && threads > 0) kernels.setThreads(threads)
    return (cached = { kernels, reason: '' })
  } catch (err) {
    return (cached = { kernels: null, reason: `the native addon failed to load: ${(err as Error).message.split('\n')[0]}` })
  }
}
