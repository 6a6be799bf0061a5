// Direct access to tensor storage on tfjs's cpu backend, where the native kernels work in place.
import * as tf from '@tensorflow/tfjs'

type CpuData<T> = { data: { get(id: unknown): { values: T; refCount: number } } }

/** A tensor's own storage on the cpu backend (no copy). Only valid while the backend is `cpu`. */
export function values<T extends Float32Array | Int32Array = Float32Array>(t: tf.Tensor): T {
  return (tf.backend() as unknown as CpuData<T>).data.get(t.dataId).values
}

/** Whether no other tensor shares t's storage (clones share it), so it may be written in place. Only valid while the backend is `cpu`. */
export function soleOwner(t: tf.Tensor): boolean {
  return (tf.backend() as unknown as CpuData<Float32Array>).data.get(t.dataId).refCount === 1
}

/** Below this many bytes an output is allocated the usual way (zeroed; small buffers come from V8's pool cheaply). */
const UNZEROED_FROM = 1 << 16
/** GPTW_ZEROED_OUTPUTS=1 (read once, at start): every output zeroed, as before unzeroed existed. */
const ALWAYS_ZEROED = process.env.GPTW_ZEROED_OUTPUTS === '1'

/**
 * n float32s for a kernel that writes every one of them: not zeroed first. A zeroed
 * Float32Array costs a memset of its size (a step of GPT-2 small allocates about 2 GB of
 * outputs); Buffer.allocUnsafe takes the memory as malloc gives it. A buffer this large is its
 * own ArrayBuffer (offset 0), so the view is aligned. GPTW_ZEROED_OUTPUTS=1 zeroes them as before.
 */
export function unzeroed(n: number): Float32Array {
  if (n * 4 < UNZEROED_FROM || ALWAYS_ZEROED) return new Float32Array(n)
  const buffer = Buffer.allocUnsafe(n * 4)
  return new Float32Array(buffer.buffer, buffer.byteOffset, n)
}

/** Wraps freshly computed values as a tensor (the cpu backend keeps the array as it is). */
export function wrap<R extends tf.Rank>(data: Float32Array, shape: readonly number[]): tf.Tensor<R> {
  return tf.tensor(data, shape as number[], 'float32') as unknown as tf.Tensor<R>
}
