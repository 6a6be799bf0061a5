// The model's building blocks as tfjs ops with hand-written gradients. Two implementations sit
// behind each op, chosen per call:
// - native (tfjs `cpu` backend + the project's addon): fused kernels on the tensors' memory, and
//   products with transposes handed to the native GEMM as flags;
// - tfjs ops (wasm, cpu, tensorflow): every product a plain A x B (the fast XNNPACK path on
//   wasm), transposes made explicit.
// This file is the seam where faster kernels plug in.
import * as tf from '@tensorflow/tfjs'
import { values, wrap } from './cpu-memory'
import { nativeKernels } from './kernels'
import type { NativeKernels } from './native'

type GradFunc<T extends tf.Tensor> = (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[]

/** tf.customGrad with the inputs as an array and types that say what comes back. */
function withGradient<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc<T> }): (...inputs: tf.Tensor[]) => T {
  const body = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    return f(args as tf.Tensor[], save)
  }
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T
}

// ---- linear: y = x W + b, x [N, in], W [in, out] (Conv1D layout), b [out] or null ----

export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  return b ? linearWithBias(x, w, b) : linearNoBias(x, w)
}

/** dx = dy W^T and dW = x^T dy: transpose flags for the native GEMM, explicit transposes otherwise. */
function linearGrads(dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
  if (nativeKernels()) return [tf.matMul(dy, w, false, true), tf.matMul(x, dy, true, false)]
  return [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(x), dy)]
}

const linearWithBias = withGradient<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w])
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D,
    gradFunc: (dy, [xs, ws]) => [...linearGrads(dy, xs as tf.Tensor2D, ws as tf.Tensor2D), tf.sum(dy, 0)]
  }
})

const linearNoBias = withGradient<tf.Tensor2D>(([x, w], save) => {
  save([x, w])
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => linearGrads(dy, xs as tf.Tensor2D, ws as tf.Tensor2D)
  }
})

/** The tied lm head: logits = h wte^T for h [N, C], wte [V, C]. */
export function tiedHead(h: tf.Tensor2D, wte: tf.Tensor2D): tf.Tensor2D {
  if (!nativeKernels()) return linear(h, tf.transpose(wte) as tf.Tensor2D, null)
  return tiedHeadNative(h, wte)
}

const tiedHeadNative = withGradient<tf.Tensor2D>(([h, wte], save) => {
  save([h, wte])
  return {
    value: tf.matMul(h as tf.Tensor2D, wte as tf.Tensor2D, false, true),
    // dh = dy wte; dwte = dy^T h
    gradFunc: (dy, [hs, ws]) => [tf.matMul(dy, ws as tf.Tensor2D), tf.matMul(dy, hs as tf.Tensor2D, true, false)]
  }
})

// ---- LayerNorm over the last axis of x [N, C] ----

export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor2D {
  const native = nativeKernels()
  if (native) return layerNormNative(native, eps)(x, gain, bias)
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gain), bias)
}

const layerNormNative = (native: NativeKernels, eps: number) =>
  withGradient<tf.Tensor2D>(([x, g, b], save) => {
    const [rows, cols] = x.shape
    const y = new Float32Array(rows * cols)
    const mean = new Float32Array(rows)
    const rstd = new Float32Array(rows)
    native.layerNormForward(values(x), values(g), values(b), rows, cols, eps, y, mean, rstd)
    save([x, g, wrap(mean, [rows]), wrap(rstd, [rows])])
    return {
      value: wrap<tf.Rank.R2>(y, [rows, cols]),
      gradFunc: (dy, [xs, gs, ms, rs]) => {
        const dx = new Float32Array(rows * cols)
        const dg = new Float32Array(cols)
        const db = new Float32Array(cols)
        native.layerNormBackward(values(xs), values(gs), values(dy), values(ms), values(rs), rows, cols, dx, dg, db)
        return [wrap(dx, [rows, cols]), wrap(dg, [cols]), wrap(db, [cols])]
      }
    }
  })

// ---- GELU, GPT-2's tanh approximation ("gelu_new") ----

const GELU_C = Math.sqrt(2 / Math.PI)

export function gelu(x: tf.Tensor): tf.Tensor {
  const native = nativeKernels()
  if (native) return geluNative(native)(x)
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C)
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
}

const geluNative = (native: NativeKernels) =>
  withGradient<tf.Tensor>(([x], save) => {
    const y = new Float32Array(x.size)
    native.geluForward(values(x), y)
    save([x])
    return {
      value: wrap(y, x.shape),
      gradFunc: (dy, [xs]) => {
        const dx = new Float32Array(xs.size)
        native.geluBackward(values(xs), values(dy), dx)
        return wrap(dx, xs.shape)
      }
    }
  })

// ---- causal multi-head self-attention ----

/**
 * Causal multi-head self-attention on a fused qkv [B*T, 3C] (the c_attn output, q | k | v).
 * Returns [B*T, C] with heads re-interleaved, ready for c_proj.
 */
export function causalSelfAttention(qkv: tf.Tensor2D, batch: number, seq: number, heads: number, mask: tf.Tensor2D): tf.Tensor2D {
  const C = qkv.shape[1] / 3
  const hd = C / heads
  // [B, T, 3, H, hd] -> [3, B, H, T, hd]
  const split = tf.transpose(tf.reshape(qkv, [batch, seq, 3, heads, hd]), [2, 0, 3, 1, 4])
  const [q, k, v] = tf.unstack(split).map((t) => tf.reshape(t, [batch * heads, seq, hd]) as tf.Tensor3D)
  const scores = nativeKernels() ? tf.matMul(q, k, false, true) : tf.matMul(q, tf.transpose(k, [0, 2, 1]))
  const att = tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hd)), mask))
  const y = tf.matMul(att, v) // [B*H, T, hd]
  return tf.reshape(tf.transpose(tf.reshape(y, [batch, heads, seq, hd]), [0, 2, 1, 3]), [batch * seq, C])
}

/** An additive causal mask [T, T]: 0 on and below the diagonal, a large negative above. */
export function causalMask(seq: number): tf.Tensor2D {
  const m = new Float32Array(seq * seq)
  for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) m[i * seq + j] = -1e9
  return tf.tensor2d(m, [seq, seq])
}

// ---- cross-entropy over the vocabulary ----

/**
 * Mean cross-entropy of logits [N, Vp] against targets [N] (int32), over the first `vocab`
 * columns only: padded vocabulary columns are masked out, never scored.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar {
  const native = nativeKernels()
  if (native) return crossEntropyNative(native, targets, vocab)(logits)
  const [n, vp] = logits.shape
  const padMask = vp > vocab ? tf.concat([tf.zeros([vocab]), tf.fill([vp - vocab], -1e9)]) : null
  const fn = withGradient<tf.Scalar>(([lg], save) => {
    const masked = padMask ? tf.add(lg, padMask) : lg
    const lse = tf.logSumExp(masked, -1, true) // [N, 1]
    const flatIdx = tf.add(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(vp, 'int32')), targets)
    const picked = tf.gather(tf.reshape(lg, [-1]), flatIdx)
    save([masked, lse])
    return {
      value: tf.mean(tf.sub(tf.reshape(lse, [n]), picked)),
      gradFunc: (dy, [m, l]) => {
        const probs = tf.exp(tf.sub(m, l))
        // oneHot's float32 output is broken on tfjs-backend-wasm 4.22 (it writes integer bit patterns): cast instead.
        const grad = tf.sub(probs, tf.cast(tf.oneHot(targets, vp), 'float32'))
        return tf.mul(grad, tf.div(dy, n))
      }
    }
  })
  return fn(logits)
}

const crossEntropyNative = (native: NativeKernels, targets: tf.Tensor1D, vocab: number) =>
  withGradient<tf.Scalar>(([lg], save) => {
    const [n, vp] = lg.shape
    const ids = targets.dtype === 'int32' ? values<Int32Array>(targets) : Int32Array.from(targets.dataSync())
    const lse = new Float32Array(n)
    const loss = native.crossEntropyForward(values(lg), ids, n, vp, vocab, lse)
    save([lg, wrap(lse, [n])])
    return {
      value: tf.scalar(loss),
      gradFunc: (dy, [logits, l]) => {
        const out = new Float32Array(n * vp)
        native.crossEntropyBackward(values(logits), values(l), ids, n, vp, vocab, dy.dataSync()[0] / n, out)
        return wrap(out, [n, vp])
      }
    }
  })
