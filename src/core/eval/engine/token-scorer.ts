// Token-level scoring on the GPT, batched: sequences are sorted by length (longest first, as the
// harness orders them) and right-padded to the longest in each batch; the causal mask keeps the
// padding out of every real position. Only the positions that are scored go through the lm head,
// and only the real vocabulary's columns: padded embedding rows are never scored or chosen.
import * as tf from '@tensorflow/tfjs'
import type { GPT } from '../../engine/model'

export interface ScoreItem {
  /** Model input (already left-truncated to the context); its last `continuation.length` positions predict the continuation. */
  input: readonly number[]
  continuation: readonly number[]
}

export interface TokenScore {
  logprob: number
  isGreedy: boolean
}

interface Scored {
  /** log P(target) at each scored position */
  logprobs: Float32Array
  /** argmax over the real vocabulary at each scored position */
  argmax: Int32Array
}

export class TokenScorer {
  readonly vocab: number

  constructor(
    private readonly model: GPT,
    private readonly batchSize: number
  ) {
    this.vocab = model.config.vocabSize
  }

  get contextLength(): number {
    return this.model.config.nCtx
  }

  /** log P(continuation | input prefix) summed, and whether every continuation token is the argmax. */
  async score(items: readonly ScoreItem[], onBatch?: (done: number) => void): Promise<TokenScore[]> {
    const out = new Array<TokenScore>(items.length)
    const order = items.map((_, i) => i).sort((a, b) => items[b].input.length - items[a].input.length || a - b)
    let done = 0
    for (let s = 0; s < order.length; s += this.batchSize) {
      const batch = order.slice(s, s + this.batchSize)
      const seqs = batch.map((i) => items[i].input)
      const positions = batch.map((i) => {
        const { input, continuation } = items[i]
        if (continuation.length < 1 || continuation.length > input.length) throw new Error(`cannot score ${continuation.length} continuation tokens from an input of ${input.length}`)
        return Array.from({ length: continuation.length }, (_, j) => input.length - continuation.length + j)
      })
      const targets = batch.flatMap((i) => [...items[i].continuation])
      const { logprobs, argmax } = await this.run(seqs, positions, targets)
      let at = 0
      for (const i of batch) {
        const cont = items[i].continuation
        let logprob = 0
        let isGreedy = true
        for (let j = 0; j < cont.length; j++, at++) {
          logprob += logprobs[at]
          if (argmax[at] !== cont[j]) isGreedy = false
        }
        out[i] = { logprob, isGreedy }
      }
      done += batch.length
      onBatch?.(done)
    }
    return out
  }

  /** The most likely next token after each sequence (greedy decoding). Sequences must fit the context. */
  async nextTokens(seqs: readonly (readonly number[])[]): Promise<number[]> {
    const out = new Array<number>(seqs.length)
    const order = seqs.map((_, i) => i).sort((a, b) => seqs[b].length - seqs[a].length || a - b)
    for (let s = 0; s < order.length; s += this.batchSize) {
      const batch = order.slice(s, s + this.batchSize)
      const { argmax } = await this.run(
        batch.map((i) => seqs[i]),
        batch.map((i) => [seqs[i].length - 1]),
        null
      )
      batch.forEach((i, k) => (out[i] = argmax[k]))
    }
    return out
  }

  /**
   * One forward pass over right-padded sequences; for the given positions of each sequence, the
   * log-probability of the target token (when targets are given) and the argmax, both over the
   * real vocabulary only.
   */
  private async run(seqs: readonly (readonly number[])[], positions: readonly number[][], targets: readonly number[] | null): Promise<Scored> {
    const B = seqs.length
    const T = Math.max(...seqs.map((q) => q.length))
    if (T > this.model.config.nCtx) throw new Error(`a sequence of ${T} tokens is longer than the model's context of ${this.model.config.nCtx}`)
    const ids = new Int32Array(B * T) // padding id 0: only ever seen by positions after the real ones
    seqs.forEach((q, b) => ids.set(q, b * T))
    const rows = positions.flatMap((ps, b) => ps.map((p) => b * T + p))
    const V = this.vocab
    const tensors = tf.tidy(() => {
      const logits = this.model.lmHead(this.model.hidden(tf.tensor2d(ids, [B, T], 'int32')), { rows, realVocab: true, frozen: true })
      const argmax = tf.argMax(logits, 1)
      if (!targets) return [argmax]
      const lse = tf.logSumExp(logits, 1)
      const flat = tf.tensor1d(
        targets.map((t, r) => r * V + t),
        'int32'
      )
      return [argmax, tf.sub(tf.gather(tf.reshape(logits, [-1]), flat), lse)]
    })
    try {
      const argmax = (await tensors[0].data()) as Int32Array
      const logprobs = tensors[1] ? ((await tensors[1].data()) as Float32Array) : new Float32Array(0)
      return { argmax, logprobs }
    } finally {
      tf.dispose(tensors)
    }
  }
}
