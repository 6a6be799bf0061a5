// tf.customGrad with the inputs as an array and types that say what comes back: how the model's
// kernels (tfjs-ops.ts, native-ops.ts) attach their hand-written gradients, and the linear layer
// both build on it, differing only in how they form the two gradient products.
import * as tf from '@tensorflow/tfjs'
import type { Linear } from '../ops'

export type GradFunc<T extends tf.Tensor> = (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[]

export function withGradient<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc<T> }): (...inputs: tf.Tensor[]) => T {
  const body = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    return f(args as tf.Tensor[], save)
  }
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T
}

/** dx = dy W^T and dW = x^T dy for y = x W, however a kernel set forms the transposed products. */
export type LinearGrads = (dy: tf.Tensor2D, x: tf.Tensor2D, w: tf.Tensor2D) => [tf.Tensor2D, tf.Tensor2D]

/** y = x W + b for x [N, in], W [in, out] (Conv1D layout), b [out] or none, with its gradients; db = dy summed over rows, by `biasGrad` where a kernel set has its own. */
export function linearLayer(linearGrads: LinearGrads, biasGrad: (dy: tf.Tensor2D) => tf.Tensor1D = (dy) => tf.sum(dy, 0)): (x: tf.Tensor2D, p: Linear) => tf.Tensor2D {
  const withBias = withGradient<tf.Tensor2D>(([x, w, b], save) => {
    save([x, w])
    return {
      value: tf.fused.matMul({ a: x as tf.Tensor2D, b: w as tf.Tensor2D, bias: b }) as tf.Tensor2D,
      gradFunc: (dy, [xs, ws]) => [...linearGrads(dy, xs as tf.Tensor2D, ws as tf.Tensor2D), biasGrad(dy)]
    }
  })
  const noBias = withGradient<tf.Tensor2D>(([x, w], save) => {
    save([x, w])
    return {
      value: tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D),
      gradFunc: (dy, [xs, ws]) => linearGrads(dy, xs as tf.Tensor2D, ws as tf.Tensor2D)
    }
  })
  return (x, { weight, bias }) => (bias ? withBias(x, weight, bias) : noBias(x, weight))
}
