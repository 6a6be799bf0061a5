// The model's kernels behind one interface: the products, LayerNorm, GELU, the tied head and the
// cross-entropy that model.ts calls, each with its gradient. Two implementations, chosen with the
// backend (kernels/index.ts), so the maths in model.ts has no backend branches:
// - kernels/native-ops.ts (tfjs `cpu` backend + the project's addon): fused kernels on the
//   tensors' memory, products with transposes handed to the native GEMM as flags;
// - kernels/tfjs-ops.ts (wasm, cpu, tensorflow): every product a plain A x B (the fast XNNPACK
//   path on wasm), transposes made explicit.
// This file is the seam where faster kernels plug in. The free functions at the end call the
// active implementation, for callers that hold no Kernels (tests of single ops).
import * as tf from '@tensorflow/tfjs'
import { kernels } from './kernels'

export { kernels } from './kernels'

/** A Conv1D-layout linear layer: y = x W + b, W [in, out], b [out] (or none). */
export interface Linear {
  weight: tf.Tensor2D
  bias: tf.Tensor1D | null
}

/** LayerNorm's affine part over the last axis. */
export interface Norm {
  gain: tf.Tensor1D
  bias: tf.Tensor1D
}

/** The tied lm head for inference: wte laid out once for the kernels' fastest product with a few rows. */
export interface FrozenHead {
  /** logits = h wte^T for h [N, C]: [N, V] (no gradient). */
  logits(h: tf.Tensor2D): tf.Tensor2D
  dispose(): void
}

export interface Kernels {
  readonly name: 'native' | 'tfjs'
  /** y = x W + b for x [N, in]. */
  linear(x: tf.Tensor2D, layer: Linear): tf.Tensor2D
  /** The tied lm head, differentiable: logits = h wte^T for h [N, C], wte [V, C]. */
  tiedHead(h: tf.Tensor2D, wte: tf.Tensor2D): tf.Tensor2D
  /** The tied lm head for inference on weights that stay as they are while it lives (the caller disposes it). */
  frozenHead(wte: tf.Tensor2D): FrozenHead
  /** LayerNorm over the last axis of x [N, C]. */
  layerNorm(x: tf.Tensor2D, norm: Norm, eps: number): tf.Tensor2D
  /** GPT-2's tanh-approximated GELU ("gelu_new"), element-wise. */
  gelu(x: tf.Tensor2D): tf.Tensor2D
  /**
   * Causal self-attention of B sequences of T positions over the fused qkv [B*T, 3C] (q | k | v),
   * H heads: the heads' outputs [B*T, C], differentiable. Where absent, model.ts composes it from
   * attentionScores and tfjs ops.
   */
  causalAttention?(qkv: tf.Tensor2D, batch: number, seq: number, heads: number): tf.Tensor2D
  /** Attention scores q k^T for q [B, T, hd], k [B, S, hd]: [B, T, S]. */
  attentionScores(q: tf.Tensor3D, k: tf.Tensor3D): tf.Tensor3D
  /** Mean cross-entropy of logits [N, Vp] against targets [N] (int32) over the first `vocab` columns: padded columns are never scored. */
  crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar
  /**
   * The tied head and the loss in one, for training: crossEntropy(tiedHead(h, wte), targets, vocab)
   * with its gradients formed as the loss is (the caller takes them), so the [N, Vp] logits never
   * exist whole. Where absent, model.ts runs the two.
   */
  tiedHeadLoss?(h: tf.Tensor2D, wte: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar
  /** Sum of the squares of every element of `tensors` (the global gradient norm, squared). */
  sumOfSquares(tensors: tf.Tensor[]): Promise<number>
}

/** An additive causal mask [T, past + T]: new position i (at past + i) sees positions 0..past + i; 0 there, a large negative above. */
export function causalMask(seq: number, past = 0): tf.Tensor2D {
  const S = past + seq
  const m = new Float32Array(seq * S)
  for (let i = 0; i < seq; i++) for (let j = past + i + 1; j < S; j++) m[i * S + j] = -1e9
  return tf.tensor2d(m, [seq, S])
}

// ---- the active implementation as free functions ----

export const linear = (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D => kernels().linear(x, { weight: w, bias: b })
export const tiedHead = (h: tf.Tensor2D, wte: tf.Tensor2D): tf.Tensor2D => kernels().tiedHead(h, wte)
export const layerNorm = (x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor2D => kernels().layerNorm(x, { gain, bias }, eps)
export const gelu = (x: tf.Tensor): tf.Tensor => kernels().gelu(x as tf.Tensor2D)
export const crossEntropy = (logits: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar => kernels().crossEntropy(logits, targets, vocab)
