// The native flash attention (kernels.cc's causal_attention_*, native-ops.ts's causalAttention):
// its output and the gradient of its fused qkv equal the reference attention's (model.ts's
// causalSelfAttention: scores, additive mask, softmax, values, as tfjs ops on the stock cpu
// backend) within 1e-5 relative, on random q, k, v whose length is not a multiple of the kernel's
// 64-position blocks; the backward keeps no T x T tensor; and it gives the same bits whatever the
// thread count, though with few heads next to the threads it splits heads into key-block and
// query-block tasks (kernels.cc's heads_to_split) instead of giving each thread whole heads.
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { gradients } from '../../src/core/engine/backprop'
import { causalSelfAttention } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { causalMask, kernels } from '../../src/core/engine/ops'

type Shape = { batch: number; seq: number; heads: number; hd: number }

/** The attention's output and d(sum(out * w))/d qkv for qkv and w drawn from `seed`, on the current backend. */
function run(shape: Shape, seed: number, attend: (qkv: tf.Tensor2D) => tf.Tensor2D): { out: Float32Array; grad: Float32Array } {
  const { batch, seq, heads, hd } = shape
  const C = heads * hd
  const qkv = tf.randomNormal([batch * seq, 3 * C], 0, 1.5, 'float32', seed) as tf.Tensor2D
  const w = tf.randomNormal([batch * seq, C], 0, 1, 'float32', seed + 1)
  const out = tf.tidy(() => attend(qkv))
  const grad = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(attend(x as tf.Tensor2D), w)))(qkv)
  const result = { out: out.dataSync() as Float32Array, grad: grad.dataSync() as Float32Array }
  tf.dispose([qkv, w, out, grad])
  return result
}

/** max |got - want| / max |want|. */
function relativeError(got: Float32Array, want: Float32Array): number {
  expect(got.length).toBe(want.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]))
    scale = Math.max(scale, Math.abs(want[i]))
  }
  expect(scale).toBeGreaterThan(0)
  return diff / scale
}

const SHAPES: Shape[] = [
  { batch: 2, seq: 150, heads: 3, hd: 16 }, // two full blocks and a partial one of 22
  { batch: 1, seq: 67, heads: 2, hd: 64 }, // GPT-2's head width, a last block of 3 rows (the GEMM's few-rows path)
  { batch: 3, seq: 5, heads: 2, hd: 8 } // shorter than one block
]

describe('native flash attention', () => {
  const native = loadNative().kernels
  it.skipIf(!native).each(SHAPES)('equals the reference attention and its gradient: B=$batch T=$seq H=$heads hd=$hd', async (shape) => {
    const { batch, seq, heads } = shape
    await initBackend('cpu')
    const mask = causalMask(seq)
    const want = run(shape, 7, (x) => causalSelfAttention(x, batch, seq, heads, mask))
    mask.dispose()
    await initBackend('native')
    expect(kernels().name).toBe('native')
    const got = run(shape, 7, (x) => kernels().causalAttention!(x, batch, seq, heads))
    expect(relativeError(got.out, want.out)).toBeLessThan(1e-5)
    expect(relativeError(got.grad, want.grad)).toBeLessThan(1e-5)
  })

  it.skipIf(!native)('keeps no T x T tensor for its backward, and gives the same bits on every run', async () => {
    await initBackend('native')
    const [B, T, H, hd] = [1, 400, 4, 8]
    const qkv = tf.randomNormal([B * T, 3 * H * hd], 0, 1, 'float32', 3) as tf.Tensor2D
    let held = 0
    const grads = () => {
      const { value, grads } = gradients(() => {
        const before = tf.memory().numBytes
        const y = tf.sum(kernels().causalAttention!(qkv, B, T, H))
        held = tf.memory().numBytes - before
        return y
      }, [qkv])
      value.dispose()
      const g = grads[0].dataSync().slice()
      grads[0].dispose()
      return g
    }
    const first = grads()
    // What the forward leaves (numBytes counts a clone's shared buffer again): the output, the
    // saved clones of qkv, the output and the log-sum-exp, the sum's saved input (the output again)
    // and the sum. One T x T tensor per head would be 2.56 MB.
    const C = H * hd
    expect(held).toBeLessThanOrEqual(4 * (B * T * (3 * C + 3 * C) + B * H * T + 1))
    expect(held).toBeLessThan((B * H * T * T * 4) / 4)
    expect(grads()).toEqual(first)
    qkv.dispose()
  })

  it.skipIf(!native)('gives the same gradient bits on 1, 2, 3 and 8 threads, heads whole or split', () => {
    const k = native!
    const threads = k.info().threads
    // One head at 2+ threads and 3 heads at 2 threads are split; at 1 thread every head is whole.
    for (const [B, T, H, hd] of [
      [1, 200, 1, 16],
      [1, 300, 3, 8],
      [2, 130, 3, 16]
    ]) {
      const C = H * hd
      const qkv = tf.randomNormal([B * T * 3 * C], 0, 1.5, 'float32', 11).dataSync() as Float32Array
      const dy = tf.randomNormal([B * T * C], 0, 1, 'float32', 12).dataSync() as Float32Array
      const y = new Float32Array(B * T * C)
      const lse = new Float32Array(B * H * T)
      k.causalAttentionForward(qkv, B, T, H, y, lse)
      const backward = (n: number) => {
        k.setThreads(n)
        const dqkv = new Float32Array(B * T * 3 * C).fill(Number.NaN)
        k.causalAttentionBackward(qkv, y, dy, lse, B, T, H, dqkv)
        return dqkv
      }
      try {
        const whole = backward(1)
        expect(whole.every(Number.isFinite)).toBe(true)
        for (const n of [2, 3, 8]) expect(backward(n), `B=${B} T=${T} H=${H} on ${n} threads`).toEqual(whole)
      } finally {
        k.setThreads(threads)
      }
    }
  })
})
