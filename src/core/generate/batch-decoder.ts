// Next-token logits for many sequences of one GPT at once. A sequence is prefilled alone, or with
// others of its prompt length (the prompt in one forward); its keys and values are kept on the
// host, per layer, in arrays that grow with it. After that, every decode step feeds one new token
// for each of B sequences through the model together: the embeddings, LayerNorms, MLPs,
// projections and the lm head run on [B, C] rows, and attention is one set of ops for the whole
// batch over the caches laid side by side, [B*H, S, hd] with S the longest sequence's length, a
// shorter sequence's unused positions masked (they get probability 0 exactly, so none sees another's
// positions or its own padding). Sequences can join (prefill) and leave (dispose) between steps.
import * as tf from '@tensorflow/tfjs'
import { type GPT, block, causalSelfAttention } from '../engine/model'
import { causalMask, kernels } from '../engine/ops'

/** The additive mask's value above a sequence's length (as causalMask's): exp of it is 0. */
const MASKED = -1e9

/** What the batching generator holds per sequence: its positions so far, freed when it leaves. */
export interface DecoderCache {
  readonly length: number
  dispose(): void
}

/** What BatchGenerator decodes with: BatchDecoder here, or one sequence at a time elsewhere (decoders.ts SequentialDecoder). */
export interface StepDecoder {
  /** Prompts of one length read, each into a new cache; logits per prompt after its last position (or after every one with `allRows`). */
  prefillGroup(prompts: number[][], allRows?: boolean): Promise<{ cache: DecoderCache; rows: Float32Array[] }[]>
  /** Token ids[b] appended to caches[b]; the logits for the token after it per sequence (at least the vocabulary's entries). */
  step(caches: DecoderCache[], ids: number[]): Promise<Float32Array[]>
}

/** One sequence's cache: each layer's keys and values, [H, capacity, hd] on the host, for its `length` positions so far. */
export class SequenceCache implements DecoderCache {
  k: Float32Array[] = []
  v: Float32Array[] = []
  capacity = 0
  length = 0

  constructor(
    readonly heads: number,
    readonly headDim: number
  ) {}

  /** Room for `n` positions at least (doubling, as far as `max`), the cached ones kept. */
  reserve(n: number, layers: number, max: number): void {
    if (n <= this.capacity) return
    const cap = Math.min(max, Math.max(n, 16, this.capacity * 2))
    const { heads: H, headDim: hd } = this
    const grow = (old: Float32Array | undefined): Float32Array => {
      const next = new Float32Array(H * cap * hd)
      if (old) for (let h = 0; h < H; h++) next.set(old.subarray(h * this.capacity * hd, (h * this.capacity + this.length) * hd), h * cap * hd)
      return next
    }
    this.k = Array.from({ length: layers }, (_, i) => grow(this.k[i]))
    this.v = Array.from({ length: layers }, (_, i) => grow(this.v[i]))
    this.capacity = cap
  }

  dispose(): void {
    this.k = []
    this.v = []
    this.capacity = 0
    this.length = 0
  }
}

export interface PrefillResult {
  cache: SequenceCache
  /** Logits ([paddedVocab] each, host memory) after every prompt position when `allRows`, else only after the last. */
  rows: Float32Array[]
}

export class BatchDecoder implements StepDecoder {
  readonly vocabPadded: number
  private readonly heads: number
  private readonly headDim: number

  constructor(readonly model: GPT) {
    this.vocabPadded = model.vocabPadded
    this.heads = model.config.nHead
    this.headDim = model.config.nEmbd / model.config.nHead
  }

  /** A new sequence's prompt through the model alone. */
  async prefill(ids: number[], allRows = false): Promise<PrefillResult> {
    return (await this.prefillGroup([ids], allRows))[0]
  }

  /** Prompts of one length through the model together ([G, T], the causal mask within each), each keeping its own cache; rows as for prefill, per prompt. */
  async prefillGroup(prompts: number[][], allRows = false): Promise<PrefillResult[]> {
    const c = this.model.config
    const G = prompts.length
    const T = prompts[0]?.length ?? 0
    if (!T) throw new Error('A sequence needs at least one token.')
    if (prompts.some((p) => p.length !== T)) throw new Error('prefillGroup takes prompts of one length.')
    if (T > c.nCtx) throw new Error(`${T} tokens do not fit the model's context of ${c.nCtx}.`)
    const { heads: H, headDim: hd } = this
    const caches = prompts.map(() => new SequenceCache(H, hd))
    for (const s of caches) s.reserve(T, c.nLayer, c.nCtx)
    // key, value: [G*H, T, hd], prompt after prompt, head after head: each (prompt, head)'s T positions are one run.
    const keep = (from: tf.Tensor3D, to: (s: SequenceCache) => Float32Array): void => {
      const data = from.dataSync() as Float32Array
      for (const [g, s] of caches.entries()) {
        const dst = to(s)
        for (let h = 0; h < H; h++) dst.set(data.subarray((g * H + h) * T * hd, (g * H + h + 1) * T * hd), h * s.capacity * hd)
      }
    }
    const logits = tf.tidy(() => {
      const k = kernels()
      const mask = causalMask(T)
      const attention = (qkv: tf.Tensor2D, i: number): tf.Tensor2D =>
        causalSelfAttention(
          qkv,
          G,
          T,
          H,
          mask,
          (key, value) => {
            keep(key, (s) => s.k[i])
            keep(value, (s) => s.v[i])
            return [key, value]
          },
          k
        )
      const h = this.model.hidden(tf.tensor2d(prompts.flat(), [G, T], 'int32'), { past: 0, attention })
      const rows = allRows ? undefined : prompts.map((_, g) => g * T + T - 1)
      return this.model.lmHead(h, { rows, frozen: true })
    })
    try {
      const all = splitRows((await logits.data()) as Float32Array, this.vocabPadded)
      const per = allRows ? T : 1
      return caches.map((cache, g) => {
        cache.length = T
        return { cache, rows: all.slice(g * per, (g + 1) * per) }
      })
    } finally {
      logits.dispose()
    }
  }

  /**
   * One decode step: token ids[b] goes after the positions in caches[b] (which grows by one); the
   * logits for the token after it come back per sequence ([paddedVocab] each, host memory).
   */
  async step(caches: SequenceCache[], ids: number[]): Promise<Float32Array[]> {
    const B = caches.length
    if (B !== ids.length) throw new Error(`step got ${B} caches and ${ids.length} tokens.`)
    if (!B) return []
    const c = this.model.config
    const { heads: H, headDim: hd } = this
    const C = c.nEmbd
    for (const s of caches) if (s.length + 1 > c.nCtx) throw new Error(`A sequence of ${s.length + 1} tokens does not fit the model's context of ${c.nCtx}.`)
    for (const s of caches) s.reserve(s.length + 1, c.nLayer, c.nCtx)
    const positions = caches.map((s) => s.length)
    // Every sequence attends over S positions: its own length + 1 of them, the rest masked.
    const S = Math.max(...positions) + 1
    const padded = positions.some((p) => p + 1 < S)
    const maskData = padded ? new Float32Array(B * H * S) : null
    if (maskData) for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) maskData.fill(MASKED, (b * H + h) * S + positions[b] + 1, (b * H + h + 1) * S)
    const logits = tf.tidy(() => {
      const k = kernels()
      const mask = maskData ? tf.tensor3d(maskData, [B * H, 1, S]) : null
      const tok = tf.gather(this.model.wte, tf.tensor1d(ids, 'int32'))
      const pos = tf.gather(this.model.wpe, tf.tensor1d(positions, 'int32'))
      let x = tf.add(tok, pos) as tf.Tensor2D // [B, C]
      for (const [i, p] of this.model.blocks.entries()) {
        const attend = (qkv: tf.Tensor2D): tf.Tensor2D => {
          // qkv [B, 3C]: row b is q | k | v, each [H, hd]. The new key and value go into each
          // sequence's cache at its position; then every cache is copied into the batch's [B*H, S, hd]
          // (its padding 0: finite, so the masked positions add exactly nothing).
          const fresh = qkv.dataSync() as Float32Array
          const queries = new Float32Array(B * C)
          const keys = new Float32Array(B * H * S * hd)
          const values = new Float32Array(B * H * S * hd)
          for (const [b, s] of caches.entries()) {
            const P = positions[b]
            queries.set(fresh.subarray(b * 3 * C, b * 3 * C + C), b * C)
            for (let h = 0; h < H; h++) {
              const at = (h * s.capacity + P) * hd
              s.k[i].set(fresh.subarray(b * 3 * C + C + h * hd, b * 3 * C + C + (h + 1) * hd), at)
              s.v[i].set(fresh.subarray(b * 3 * C + 2 * C + h * hd, b * 3 * C + 2 * C + (h + 1) * hd), at)
              const from = h * s.capacity * hd
              const to = (b * H + h) * S * hd
              keys.set(s.k[i].subarray(from, from + (P + 1) * hd), to)
              values.set(s.v[i].subarray(from, from + (P + 1) * hd), to)
            }
          }
          // (q is copied out too: tfjs's cpu slice of a strided block goes element by element.)
          const q = tf.tensor3d(queries, [B * H, 1, hd])
          const scores = tf.mul(k.attentionScores(q, tf.tensor3d(keys, [B * H, S, hd])), 1 / Math.sqrt(hd)) // [B*H, 1, S]
          const att = tf.softmax(mask ? tf.add(scores, mask) : scores)
          return tf.reshape(tf.matMul(att, tf.tensor3d(values, [B * H, S, hd])), [B, C]) as tf.Tensor2D
        }
        x = block(k, x, p, attend, c.layerNormEps, (t) => t)
      }
      const h = k.layerNorm(x, this.model.lnF, c.layerNormEps)
      return this.model.lmHead(h, { frozen: true })
    })
    for (const s of caches) s.length++
    try {
      return splitRows((await logits.data()) as Float32Array, this.vocabPadded)
    } finally {
      logits.dispose()
    }
  }
}

function splitRows(data: Float32Array, width: number): Float32Array[] {
  const rows: Float32Array[] = []
  for (let r = 0; r * width < data.length; r++) rows.push(data.subarray(r * width, (r + 1) * width))
  return rows
}
