// The model's building blocks as tfjs ops with hand-written gradients where tfjs's autodiff
// would be slow on the embedded CPU path: every product is a plain 2-D or batched A x B (the fast
// XNNPACK path), with transposes made explicit. This is the seam where faster kernels plug in.
import * as tf from '@tensorflow/tfjs'

/** y = x W + b for x [N, in], W [in, out] (Conv1D layout), b [out] or null. */
export function linear(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  if (b) return linearWithBias(x, w, b)
  return linearNoBias(x, w)
}

type GradFunc<T extends tf.Tensor> = (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[]

/** tf.customGrad with the inputs as an array and types that say what comes back. */
function withGradient<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc<T> }): (...inputs: tf.Tensor[]) => T {
  const body = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    return f(args as tf.Tensor[], save)
  }
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T
}

const linearWithBias = withGradient<tf.Tensor2D>(([x, w, b], save) => {
  save([x, w])
  return {
    value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D,
    gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy), tf.sum(dy, 0)]
  }
})

const linearNoBias = withGradient<tf.Tensor2D>(([x, w], save) => {
  save([x, w])
  return {
    value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
    gradFunc: (dy, [xs, ws]) => [tf.matMul(dy, tf.transpose(ws)), tf.matMul(tf.transpose(xs), dy)]
  }
})

/** LayerNorm over the last axis of x [N, C]. */
export function layerNorm(x: tf.Tensor2D, gain: tf.Tensor1D, bias: tf.Tensor1D, eps: number): tf.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gain), bias)
}

const GELU_C = Math.sqrt(2 / Math.PI)

/** GPT-2's tanh approximation of GELU ("gelu_new"). */
export function gelu(x: tf.Tensor): tf.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C)
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
}

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
  const kT = tf.transpose(k, [0, 2, 1])
  const scores = tf.add(tf.mul(tf.matMul(q, kT), 1 / Math.sqrt(hd)), mask)
  const att = tf.softmax(scores)
  const y = tf.matMul(att, v) // [B*H, T, hd]
  return tf.reshape(tf.transpose(tf.reshape(y, [batch, heads, seq, hd]), [0, 2, 1, 3]), [batch * seq, C])
}

/** An additive causal mask [T, T]: 0 on and below the diagonal, a large negative above. */
export function causalMask(seq: number): tf.Tensor2D {
  const m = new Float32Array(seq * seq)
  for (let i = 0; i < seq; i++) for (let j = i + 1; j < seq; j++) m[i * seq + j] = -1e9
  return tf.tensor2d(m, [seq, seq])
}

/**
 * Mean cross-entropy of logits [N, Vp] against targets [N] (int32), over the first `vocab`
 * columns only: padded vocabulary columns are masked out, never scored.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar {
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
