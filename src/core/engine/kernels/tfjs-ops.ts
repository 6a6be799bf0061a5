// The model's kernels as plain tfjs ops, for every backend but `native` (wasm, cpu, tensorflow):
// every product a plain A x B (the fast XNNPACK path on wasm), transposes made explicit, and the
// gradients written out where tfjs's own would take a slow path.
import * as tf from '@tensorflow/tfjs'
import type { FrozenHead, Kernels, Norm } from '../ops'
import { linearLayer, withGradient } from './gradient'

// dx = dy W^T and dW = x^T dy, with the transposes made explicit.
const linear = linearLayer((dy, x, w) => [tf.matMul(dy, tf.transpose(w)), tf.matMul(tf.transpose(x), dy)])

const GELU_C = Math.sqrt(2 / Math.PI)

/**
 * Mean cross-entropy over the first `vocab` columns: padded columns are masked out of the
 * log-sum-exp, so they get no probability and no gradient.
 */
function crossEntropy(logits: tf.Tensor2D, targets: tf.Tensor1D, vocab: number): tf.Scalar {
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

export const tfjsKernels: Kernels = {
  name: 'tfjs',
  linear,
  tiedHead: (h, wte) => linear(h, { weight: tf.transpose(wte) as tf.Tensor2D, bias: null }),
  frozenHead(wte): FrozenHead {
    // wte^T made once (kept out of the caller's tidy): each product is then XNNPACK's plain A x B.
    const t = tf.keep(tf.transpose(wte)) as tf.Tensor2D
    return { logits: (h) => tf.matMul(h, t), dispose: () => t.dispose() }
  },
  layerNorm(x, { gain, bias }: Norm, eps) {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), gain), bias)
  },
  gelu(x) {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C)
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1))
  },
  attentionScores: (q, k) => tf.matMul(q, tf.transpose(k, [0, 2, 1])),
  crossEntropy,
  async sumOfSquares(tensors) {
    const sumSq = tf.tidy(() => tf.addN(tensors.map((g) => tf.sum(tf.square(g)))))
    const total = (await sumSq.data())[0]
    sumSq.dispose()
    return total
  }
}
