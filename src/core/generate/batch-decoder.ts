// Next-token logits for many sequences of one GPT at once. A sequence is prefilled alone, or with
// others of its prompt length (the prompt in one forward, keeping each layer's keys and values);
// after that, every decode step feeds one new token for each of B sequences through the model
// together: the embeddings, LayerNorms, MLPs, projections and the lm head run on [B, C] rows, and
// only attention is done per sequence, against that sequence's own cache and position. Sequences
// can join (prefill) and leave (dispose) between steps; none sees another's positions. Sequences
// with the same number of cached positions attend in one batched set of ops.
import * as tf from '@tensorflow/tfjs'
import { type GPT, type LayerKV, block, causalSelfAttention } from '../engine/model'
import { causalMask, kernels } from '../engine/ops'

/** One sequence's cache: each layer's keys and values for its `length` positions so far. */
export class SequenceCache {
  layers: LayerKV[] = []
  length = 0

  dispose(): void {
    for (const l of this.layers) {
      l.k.dispose()
      l.v.dispose()
    }
    this.layers = []
    this.length = 0
  }
}

export interface PrefillResult {
  cache: SequenceCache
  /** Logits ([paddedVocab] each, host memory) after every prompt position when `allRows`, else only after the last. */
  rows: Float32Array[]
}

export class BatchDecoder {
  readonly vocabPadded: number
  /** Attention groups formed over all steps (sequences of equal length attend as one). */
  attentionGroups = 0

  constructor(readonly model: GPT) {
    this.vocabPadded = model.vocabPadded
  }

  /** A new sequence's prompt through the model alone; its cache is the caller's to dispose. */
  async prefill(ids: number[], allRows = false): Promise<PrefillResult> {
    return (await this.prefillGroup([ids], allRows))[0]
  }

  /**
   * Prompts of one length through the model together ([G, T], the causal mask within each), each
   * keeping its own cache; rows as for prefill, per prompt. The caches are the caller's to dispose.
   */
  async prefillGroup(prompts: number[][], allRows = false): Promise<PrefillResult[]> {
    const c = this.model.config
    const G = prompts.length
    const T = prompts[0]?.length ?? 0
    if (!T) throw new Error('A sequence needs at least one token.')
    if (prompts.some((p) => p.length !== T)) throw new Error('prefillGroup takes prompts of one length.')
    if (T > c.nCtx) throw new Error(`${T} tokens do not fit the model's context of ${c.nCtx}.`)
    const layers: LayerKV[][] = prompts.map(() => [])
    const logits = tf.tidy(() => {
      const k = kernels()
      const mask = causalMask(T)
      const attention = (qkv: tf.Tensor2D, i: number): tf.Tensor2D =>
        causalSelfAttention(
          qkv,
          G,
          T,
          c.nHead,
          mask,
          (key, value) => {
            // key, value: [G*H, T, hd], prompt after prompt: each prompt's [H, T, hd] is its cache.
            const ks = G === 1 ? [key] : tf.split(key, G, 0)
            const vs = G === 1 ? [value] : tf.split(value, G, 0)
            for (let g = 0; g < G; g++) layers[g][i] = { k: tf.keep(ks[g] as tf.Tensor3D), v: tf.keep(vs[g] as tf.Tensor3D) }
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
      return prompts.map((_, g) => {
        const cache = new SequenceCache()
        cache.layers = layers[g]
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
    for (const s of caches) if (s.length + 1 > c.nCtx) throw new Error(`A sequence of ${s.length + 1} tokens does not fit the model's context of ${c.nCtx}.`)
    const positions = caches.map((s) => s.length)
    // Sequences with as many positions cached attend together (one set of ops for the group, each
    // batch entry its own sequence's cache; no padding, so nothing differs from attending alone).
    const groups = new Map<number, number[]>()
    for (const [b, P] of positions.entries()) groups.set(P, [...(groups.get(P) ?? []), b])
    const order = [...groups.values()].flat()
    this.attentionGroups += groups.size
    const next: LayerKV[][] = caches.map(() => [])
    const logits = tf.tidy(() => {
      const k = kernels()
      const tok = tf.gather(this.model.wte, tf.tensor1d(ids, 'int32'))
      const pos = tf.gather(this.model.wpe, tf.tensor1d(positions, 'int32'))
      let x = tf.add(tok, pos) as tf.Tensor2D // [B, C]
      // Group outputs come back in `order`; this puts them back in batch order.
      const inverse = tf.tensor1d(
        order.map((_, b) => order.indexOf(b)),
        'int32'
      )
      for (const [i, p] of this.model.blocks.entries()) {
        const attend = (qkv: tf.Tensor2D): tf.Tensor2D => {
          const outs = [...groups.values()].map((members) => {
            const rows = members.length === B ? qkv : (tf.gather(qkv, tf.tensor1d(members, 'int32')) as tf.Tensor2D)
            return causalSelfAttention(
              rows,
              members.length,
              1,
              c.nHead,
              null,
              (key, value) => {
                // key, value: [G*H, 1, hd]; each member's cache [H, P, hd], stacked in member order.
                const past = members.map((b) => caches[b].layers[i])
                const kAll = past[0] ? tf.concat([past.length === 1 ? past[0].k : tf.concat(past.map((l) => l.k)), key], 1) : key
                const vAll = past[0] ? tf.concat([past.length === 1 ? past[0].v : tf.concat(past.map((l) => l.v)), value], 1) : value
                const ks = members.length === 1 ? [kAll] : tf.split(kAll, members.length, 0)
                const vs = members.length === 1 ? [vAll] : tf.split(vAll, members.length, 0)
                for (const [g, b] of members.entries()) next[b][i] = { k: ks[g] as tf.Tensor3D, v: vs[g] as tf.Tensor3D }
                return [kAll as tf.Tensor3D, vAll as tf.Tensor3D]
              },
              k
            )
          })
          if (outs.length === 1) return outs[0]
          return tf.gather(tf.concat(outs, 0), inverse) as tf.Tensor2D
        }
        x = block(k, x, p, attend, c.layerNormEps, (t) => t)
      }
      const h = k.layerNorm(x, this.model.lnF, c.layerNormEps)
      const out = this.model.lmHead(h, { frozen: true })
      // The new caches outlive the tidy; everything else made here is freed with it.
      for (const layers of next) {
        for (const kv of layers) {
          tf.keep(kv.k)
          tf.keep(kv.v)
        }
      }
      return out
    })
    for (const [b, s] of caches.entries()) {
      for (const l of s.layers) {
        l.k.dispose()
        l.v.dispose()
      }
      s.layers = next[b]
      s.length++
    }
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
