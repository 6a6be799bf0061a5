// Next-token logits for a growing sequence, two ways over the same GPT parameters and ops:
// KVCacheDecoder keeps each layer's keys and values so a new token costs one position's work;
// RecomputeDecoder runs the whole visible sequence through GPT.hidden every time (the seed's way,
// kept as the reference and the speed baseline). Batch 1.
import * as tf from '@tensorflow/tfjs'
import type { GPT } from '../engine/model'
import { nativeKernels } from '../engine/kernels'
import { gelu, layerNorm, linear } from '../engine/ops'

export interface Decoder {
  /** Appends `ids` to the sequence and returns the logits for the token after it ([paddedVocab], host memory). */
  next(ids: number[]): Promise<Float32Array>
  /** Forgets the sequence (the window moved: the caller feeds the kept tokens again). */
  reset(): void
  /** Tokens the decoder has seen since the last reset. */
  readonly length: number
  dispose(): void
}

/** Keys and values of the positions seen so far, [H, P, hd] each (a type alias, so tf.tidy can return it). */
type LayerCache = { k: tf.Tensor3D; v: tf.Tensor3D }

export class KVCacheDecoder implements Decoder {
  private cache: LayerCache[] = []
  private past = 0
  private headT: tf.Tensor2D | null = null

  constructor(private readonly model: GPT) {}

  /**
   * logits = h wte^T. The native GEMM reads wte's rows directly (one contiguous dot product per
   * vocabulary entry, the fastest way for one row); other backends get wte^T made once.
   */
  private head(h: tf.Tensor2D): tf.Tensor2D {
    const wte = this.model.p('wte.weight') as tf.Tensor2D
    if (nativeKernels()) return tf.matMul(h, wte, false, true)
    this.headT ??= tf.keep(tf.transpose(wte))
    return tf.matMul(h, this.headT)
  }

  get length(): number {
    return this.past
  }

  async next(ids: number[]): Promise<Float32Array> {
    const c = this.model.config
    if (!ids.length) throw new Error('KVCacheDecoder.next needs at least one token.')
    if (this.past + ids.length > c.nCtx) throw new Error(`${this.past + ids.length} tokens do not fit the model's context of ${c.nCtx}: reset and feed the window again.`)
    const P = this.past
    const T = ids.length
    const { logits, cache } = tf.tidy(() => {
      const m = this.model
      const C = c.nEmbd
      const H = c.nHead
      const hd = C / H
      let x = tf.add(tf.gather(m.p('wte.weight'), tf.tensor1d(ids, 'int32')), tf.slice(m.p('wpe.weight'), [P, 0], [T, C])) as tf.Tensor2D
      const mask = T > 1 ? prefillMask(P, T) : null
      const next: LayerCache[] = []
      for (let i = 0; i < c.nLayer; i++) {
        const h = `h.${i}.`
        const a = layerNorm(x, m.p(h + 'ln_1.weight') as tf.Tensor1D, m.p(h + 'ln_1.bias') as tf.Tensor1D, c.layerNormEps)
        const qkv = linear(a, m.p(h + 'attn.c_attn.weight') as tf.Tensor2D, m.p(h + 'attn.c_attn.bias') as tf.Tensor1D)
        // [T, 3C] -> [3, H, T, hd]
        const [q, k, v] = tf.unstack(tf.transpose(tf.reshape(qkv, [T, 3, H, hd]), [1, 2, 0, 3])) as tf.Tensor3D[]
        const prev = this.cache[i]
        const K = prev ? tf.concat([prev.k, k], 1) : k
        const V = prev ? tf.concat([prev.v, v], 1) : v
        next.push({ k: K, v: V })
        let scores = tf.mul(tf.matMul(q, K, false, true), 1 / Math.sqrt(hd)) // [H, T, P+T]
        if (mask) scores = tf.add(scores, mask)
        const y = tf.matMul(tf.softmax(scores), V) // [H, T, hd]
        const att = tf.reshape(tf.transpose(y, [1, 0, 2]), [T, C]) as tf.Tensor2D
        x = tf.add(x, linear(att, m.p(h + 'attn.c_proj.weight') as tf.Tensor2D, m.p(h + 'attn.c_proj.bias') as tf.Tensor1D))
        const n = layerNorm(x, m.p(h + 'ln_2.weight') as tf.Tensor1D, m.p(h + 'ln_2.bias') as tf.Tensor1D, c.layerNormEps)
        const fc = gelu(linear(n, m.p(h + 'mlp.c_fc.weight') as tf.Tensor2D, m.p(h + 'mlp.c_fc.bias') as tf.Tensor1D)) as tf.Tensor2D
        x = tf.add(x, linear(fc, m.p(h + 'mlp.c_proj.weight') as tf.Tensor2D, m.p(h + 'mlp.c_proj.bias') as tf.Tensor1D))
      }
      const last = tf.slice(x, [T - 1, 0], [1, C]) as tf.Tensor2D
      const out = layerNorm(last, m.p('ln_f.weight') as tf.Tensor1D, m.p('ln_f.bias') as tf.Tensor1D, c.layerNormEps)
      return { logits: this.head(out), cache: next }
    })
    this.dropCache()
    this.cache = cache
    this.past = P + T
    try {
      return (await logits.data()) as Float32Array
    } finally {
      logits.dispose()
    }
  }

  reset(): void {
    this.dropCache()
    this.past = 0
  }

  dispose(): void {
    this.reset()
    this.headT?.dispose()
    this.headT = null
  }

  private dropCache(): void {
    for (const l of this.cache) {
      l.k.dispose()
      l.v.dispose()
    }
    this.cache = []
  }
}

/** [T, P+T]: new token i (at position P+i) sees positions 0..P+i. */
function prefillMask(P: number, T: number): tf.Tensor2D {
  const m = new Float32Array(T * (P + T))
  for (let i = 0; i < T; i++) for (let j = P + i + 1; j < P + T; j++) m[i * (P + T) + j] = -1e9
  return tf.tensor2d(m, [T, P + T])
}

export class RecomputeDecoder implements Decoder {
  private ids: number[] = []

  constructor(private readonly model: GPT) {}

  get length(): number {
    return this.ids.length
  }

  async next(ids: number[]): Promise<Float32Array> {
    this.ids.push(...ids)
    const T = this.ids.length
    const C = this.model.config.nEmbd
    const logits = tf.tidy(() => {
      const hidden = this.model.hidden(tf.tensor2d(this.ids, [1, T], 'int32'))
      return tf.matMul(tf.slice(hidden, [T - 1, 0], [1, C]), this.model.p('wte.weight'), false, true)
    })
    try {
      return (await logits.data()) as Float32Array
    } finally {
      logits.dispose()
    }
  }

  reset(): void {
    this.ids = []
  }

  dispose(): void {
    this.ids = []
  }
}
