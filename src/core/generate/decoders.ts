// Next-token logits for a growing sequence, two ways over the same GPT forward and lm head:
// KVCacheDecoder keeps each layer's keys and values (GPT.kvCacheAttention) so a new token costs
// one position's work; RecomputeDecoder runs the whole visible sequence through the model every
// time (the seed's way, kept as the reference and the speed baseline). Batch 1.
import * as tf from '@tensorflow/tfjs'
import type { GPT, LayerKV } from '../engine/model'

export interface Decoder {
  /** Appends `ids` to the sequence and returns the logits for the token after it ([paddedVocab], host memory). */
  next(ids: number[]): Promise<Float32Array>
  /** Forgets the sequence (the window moved: the caller feeds the kept tokens again). */
  reset(): void
  /** Tokens the decoder has seen since the last reset. */
  readonly length: number
  dispose(): void
}

export class KVCacheDecoder implements Decoder {
  /** Each layer's keys and values of the positions seen so far. */
  private cache: LayerKV[] = []
  private past = 0

  constructor(private readonly model: GPT) {}

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
      const next: LayerKV[] = []
      const attention = this.model.kvCacheAttention(this.cache, P, T, next)
      const h = this.model.hidden(tf.tensor2d(ids, [1, T], 'int32'), { past: P, attention })
      return { logits: this.model.lmHead(h, { rows: [T - 1], frozen: true }), cache: next }
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
  }

  private dropCache(): void {
    for (const l of this.cache) {
      l.k.dispose()
      l.v.dispose()
    }
    this.cache = []
  }
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
    const logits = tf.tidy(() => this.model.lmHead(this.model.hidden(tf.tensor2d(this.ids, [1, T], 'int32')), { rows: [T - 1], frozen: true }))
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
