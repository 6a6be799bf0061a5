// tf.customGrad with the inputs as an array and types that say what comes back: how the model's
// kernels (tfjs-ops.ts, native-ops.ts) attach their hand-written gradients.
import * as tf from '@tensorflow/tfjs'

export type GradFunc<T extends tf.Tensor> = (dy: T, saved: tf.Tensor[]) => tf.Tensor | tf.Tensor[]

export function withGradient<T extends tf.Tensor>(f: (inputs: tf.Tensor[], save: tf.GradSaveFunc) => { value: T; gradFunc: GradFunc<T> }): (...inputs: tf.Tensor[]) => T {
  const body = (...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc
    return f(args as tf.Tensor[], save)
  }
  return tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (...inputs: tf.Tensor[]) => T
}
