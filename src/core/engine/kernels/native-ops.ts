// The model's kernels on the `native` rung (tfjs's cpu backend with the project's addon): LayerNorm,
// GELU and the cross-entropy as fused native kernels working on the tensors' memory, and every
// product with a transpose handed to the native GEMM (registered under BatchMatMul, native-cpu.ts)
// as a flag, so no transpose is ever copied.
import * as tf from '@tensorflow/tfjs'
import { soleOwner, unzeroed, values, wrap } from '../cpu-memory'
import type { NativeKernels } from '../native'
import type { FrozenHead, Kernels } from '../ops'
import { linearLayer, withGradient } from './gradient'

/** The targets' ids as int32, read in place when they are int32 already. */
function int32Values(targets: tf.Tensor1D): Int32Array {
  return targets.dtype === 'int32' ? values<Int32Array>(targets) : Int32Array.from(targets.dataSync())
}

export function nativeModelKernels(native: NativeKernels): Kernels {
  // dx = dy W^T and dW = x^T dy as transpose flags; db natively (tfjs's Sum over rows first
  // transposes dy, a copy, then sums in JavaScript: 0.4 s of a 14 s GPT-2 small step; the same bits).
  const linear = linearLayer(
    (dy, x, w) => [tf.matMul(dy, w, false, true), tf.matMul(x, dy, true, false)],
    (dy) => {
      const [rows, cols] = dy.shape
      const db = new Float32Array(cols)
      native.columnSums(values(dy), rows, cols, db)
      return wrap<tf.Rank.R1>(db, [cols])
    }
  )

  const tiedHead = withGradient<tf.Tensor2D>(([h, wte], save) => {
    save([h, wte])
    return {
      value: tf.matMul(h as tf.Tensor2D, wte as tf.Tensor2D, false, true),
      // dh = dy wte; dwte = dy^T h
      gradFunc: (dy, [hs, ws]) => [tf.matMul(dy, ws as tf.Tensor2D), tf.matMul(dy, hs as tf.Tensor2D, true, false)]
    }
  })

  const layerNorm = (eps: number) =>
    withGradient<tf.Tensor2D>(([x, g, b], save) => {
      const [rows, cols] = x.shape
      const y = unzeroed(rows * cols)
      const mean = new Float32Array(rows)
      const rstd = new Float32Array(rows)
      native.layerNormForward(values(x), values(g), values(b), rows, cols, eps, y, mean, rstd)
      save([x, g, wrap(mean, [rows]), wrap(rstd, [rows])])
      return {
        value: wrap<tf.Rank.R2>(y, [rows, cols]),
        gradFunc: (dy, [xs, gs, ms, rs]) => {
          const dx = unzeroed(rows * cols)
          const dg = new Float32Array(cols)
          const db = new Float32Array(cols)
          native.layerNormBackward(values(xs), values(gs), values(dy), values(ms), values(rs), rows, cols, dx, dg, db)
          return [wrap(dx, [rows, cols]), wrap(dg, [cols]), wrap(db, [cols])]
        }
      }
    })

  const gelu = withGradient<tf.Tensor2D>(([x], save) => {
    const y = unzeroed(x.size)
    native.geluForward(values(x), y)
    save([x])
    return {
      value: wrap<tf.Rank.R2>(y, x.shape),
      gradFunc: (dy, [xs]) => {
        const dx = unzeroed(xs.size)
        native.geluBackward(values(xs), values(dy), dx)
        return wrap(dx, xs.shape)
      }
    }
  })

  // Causal self-attention in one native kernel each way (flash attention): q, k and v are read
  // from the fused qkv where they lie, the output is written with the heads merged, and what the
  // backward keeps is qkv, the output (shared with c_proj's saved input, a clone of the same
  // storage) and one log-sum-exp per attention row: no T x T tensor, forward or backward.
  const causalAttention = (batch: number, seq: number, heads: number) =>
    withGradient<tf.Tensor2D>(([qkv], save) => {
      const C = (qkv as tf.Tensor2D).shape[1] / 3
      const y = unzeroed(batch * seq * C)
      const lse = new Float32Array(batch * heads * seq)
      native.causalAttentionForward(values(qkv), batch, seq, heads, y, lse)
      const out = wrap<tf.Rank.R2>(y, [batch * seq, C])
      save([qkv, out, wrap(lse, [batch * heads * seq])])
      return {
        value: out,
        gradFunc: (dy, [qs, ys, ls]) => {
          const dqkv = unzeroed(batch * seq * 3 * C)
          native.causalAttentionBackward(values(qs), values(ys), values(dy), values(ls), batch, seq, heads, dqkv)
          return wrap(dqkv, [batch * seq, 3 * C])
        }
      }
    })

  const crossEntropy = (targets: tf.Tensor1D, vocab: number) =>
    withGradient<tf.Scalar>(([lg], save) => {
      const [n, vp] = lg.shape
      const ids = int32Values(targets)
      const lse = new Float32Array(n)
      const loss = native.crossEntropyForward(values(lg), ids, n, vp, vocab, lse)
      save([lg, wrap(lse, [n])])
      return {
        value: tf.scalar(loss),
        gradFunc: (dy, [logits, l]) => {
          // Nothing reads the logits after this: where the saved copy is their only holder (the
          // forward's tensor is gone, as in training), their gradient overwrites them, row by row,
          // instead of taking a second [N, Vp] buffer (206 MB at GPT-2's vocabulary and context).
          const x = values(logits)
          const out = soleOwner(logits) ? x : unzeroed(n * vp)
          native.crossEntropyBackward(x, values(l), ids, n, vp, vocab, dy.dataSync()[0] / n, out)
          return wrap(out, [n, vp])
        }
      }
    })

  // The head and the loss for training (native.tiedHeadLoss): the gradients are formed with the
  // loss, a piece of rows at a time, so neither the [N, Vp] logits (206 MB at GPT-2's vocabulary and
  // context) nor a fresh zeroed buffer for them is needed; the same bits as tiedHead + crossEntropy.
  // The gradient is taken for a loss gradient of 1 (as training's is) and scaled otherwise.
  const tiedHeadLoss = (targets: tf.Tensor1D, vocab: number) =>
    withGradient<tf.Scalar>(([h, wte], save) => {
      const [n, c] = h.shape
      const vp = wte.shape[0]
      const ids = int32Values(targets)
      const dh = unzeroed(n * c)
      const dwte = unzeroed(vp * c)
      const loss = native.tiedHeadLoss(values(h), values(wte), ids, n, c, vp, vocab, 1 / n, dh, dwte)
      save([wrap(dh, [n, c]), wrap(dwte, [vp, c])])
      return {
        value: tf.scalar(loss),
        gradFunc: (dy, [dhs, dws]) => {
          const s = dy.dataSync()[0]
          return s === 1 ? [dhs.clone(), dws.clone()] : [tf.mul(dhs, s), tf.mul(dws, s)]
        }
      }
    })

  return {
    name: 'native',
    linear,
    tiedHead: (h, wte) => tiedHead(h, wte),
    // wte's rows are read as they are, nothing laid out: one row (decoding one sequence) as one dot
    // product per vocabulary entry (the GEMM's few-rows path, memory-bound); 2 to 16 rows (a batched
    // decode step) in rowsTimesTransposed, which reads wte once for all of them; more (a prompt's
    // every position) in the blocked GEMM.
    frozenHead: (wte): FrozenHead => ({
      logits: (h) => {
        const [m, k] = h.shape
        if (m < 2 || m > 16) return tf.matMul(h, wte, false, true)
        const n = wte.shape[0]
        const out = unzeroed(m * n)
        native.rowsTimesTransposed(values(h), values(wte), m, n, k, out)
        return wrap<tf.Rank.R2>(out, [m, n])
      },
      dispose: () => {}
    }),
    layerNorm: (x, { gain, bias }, eps) => layerNorm(eps)(x, gain, bias),
    gelu: (x) => gelu(x),
    causalAttention: (qkv, batch, seq, heads) => causalAttention(batch, seq, heads)(qkv),
    attentionScores: (q, k) => tf.matMul(q, k, false, true),
    crossEntropy: (logits, targets, vocab) => crossEntropy(targets, vocab)(logits),
    tiedHeadLoss: (h, wte, targets, vocab) => tiedHeadLoss(targets, vocab)(h, wte),
    sumOfSquares: async (tensors) => tensors.reduce((s, g) => s + native.sumSquares(values(g)), 0)
  }
}
