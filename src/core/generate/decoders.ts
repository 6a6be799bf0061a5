// Next-token logits one sequence at a time, for the batching generator (BatchGenerator) where the
// batched decoder (batch-decoder.ts) does not apply: a Decoder keeps one growing sequence (the
// PyTorch engine's model server session, torch-decoder.ts, or RecomputeDecoder, which runs the
// whole visible sequence through the model every time: the seed's way, kept as the reference and
// the speed baseline), and SequentialDecoder gives BatchGenerator one Decoder per sequence.
import * as tf from '@tensorflow/tfjs'
import type { GPT } from '../engine/model'
import type { DecoderCache, StepDecoder } from './batch-decoder'

export interface Decoder {
  /** Appends `ids` to the sequence and returns the logits for the token after it (at least the vocabulary's entries, host memory). */
  next(ids: number[]): Promise<Float32Array>
  /** Forgets the sequence (the caller feeds another one). */
  reset(): void
  /** Tokens the decoder has seen since the last reset. */
  readonly length: number
  dispose(): void
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

/** A sequence's cache as its own Decoder; disposing it hands the decoder back. */
class DecoderSequence implements DecoderCache {
  constructor(
    readonly decoder: Decoder,
    private readonly release: (d: Decoder) => void
  ) {}

  get length(): number {
    return this.decoder.length
  }

  dispose(): void {
    this.release(this.decoder)
  }
}

/** BatchGenerator's decoder over Decoders: each sequence gets one from `open` (fresh, or reset) and is fed alone, in turn. */
export class SequentialDecoder implements StepDecoder {
  constructor(
    private readonly open: () => Decoder,
    private readonly release: (d: Decoder) => void = (d) => d.dispose()
  ) {}

  async prefillGroup(prompts: number[][], allRows = false): Promise<{ cache: DecoderCache; rows: Float32Array[] }[]> {
    const out: { cache: DecoderCache; rows: Float32Array[] }[] = []
    for (const ids of prompts) {
      const cache = new DecoderSequence(this.open(), this.release)
      try {
        // Every position's logits: the prompt token by token; else all of it at once.
        const rows = allRows ? [] : [await cache.decoder.next(ids)]
        if (allRows) for (const id of ids) rows.push((await cache.decoder.next([id])).slice())
        out.push({ cache, rows })
      } catch (err) {
        cache.dispose()
        for (const o of out) o.cache.dispose()
        throw err
      }
    }
    return out
  }

  async step(caches: DecoderCache[], ids: number[]): Promise<Float32Array[]> {
    const rows: Float32Array[] = []
    for (const [b, c] of caches.entries()) rows.push(await (c as DecoderSequence).decoder.next([ids[b]]))
    return rows
  }
}
