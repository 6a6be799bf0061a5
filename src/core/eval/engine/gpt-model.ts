// The evaluator's LanguageModel over our GPT, answering requests the way the harness's GPT-2
// adapter (lm_eval/base.py, BaseLM, v0.2.0) does: GPT-2 BPE, context and continuation encoded
// separately, an empty context replaced by end-of-text, inputs left-truncated to the model's
// context; rolling log-likelihood over disjoint windows; greedy generation up to 256 tokens with
// the context cut to leave room for them. Identical requests are scored once.
import { type GreedyUntilRequest, type LoglikelihoodRequest, type LoglikelihoodResult, type LoglikelihoodRollingRequest, MAX_GEN_TOKENS } from '../../../shared/eval'
import { END_OF_TEXT, GPT2_VOCAB_SIZE, decodeTokens, encodeText } from '../../data/gpt2-tokenizer'
import type { GPT } from '../../engine/model'
import type { LanguageModel } from '../model'
import { loglikelihoodInput, rollingWindows } from '../rolling'
import { greedyGenerate } from './generate'
import { type ScoreItem, TokenScorer } from './token-scorer'

export interface GPTLanguageModelOptions {
  /** The cache key of these weights (the checkpoint fingerprint). */
  id: string
  batchSize: number
}

export class GPTLanguageModel implements LanguageModel {
  readonly id: string
  private readonly scorer: TokenScorer

  constructor(model: GPT, options: GPTLanguageModelOptions) {
    if (model.config.vocabSize < GPT2_VOCAB_SIZE) {
      throw new Error(`This checkpoint's vocabulary has ${model.config.vocabSize} tokens; evaluation uses GPT-2's BPE of ${GPT2_VOCAB_SIZE} tokens. Evaluate a checkpoint trained on GPT-2 tokens.`)
    }
    this.id = options.id
    this.scorer = new TokenScorer(model, options.batchSize)
  }

  get maxLength(): number {
    return this.scorer.contextLength
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const items = requests.map((r) => {
      const context = r.context === '' ? [END_OF_TEXT] : encodeText(r.context)
      const continuation = encodeText(r.continuation)
      return { input: loglikelihoodInput(context, continuation, this.maxLength).input, continuation }
    })
    return this.scoreUnique(items)
  }

  async loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    const perText = requests.map((r) =>
      rollingWindows(encodeText(r.text), END_OF_TEXT, this.maxLength, 1).map((w) => ({ input: loglikelihoodInput(w.context, w.continuation, this.maxLength).input, continuation: w.continuation }))
    )
    const scores = await this.scoreUnique(perText.flat())
    let at = 0
    return perText.map((windows) => {
      let sum = 0
      for (let k = 0; k < windows.length; k++) sum += scores[at++].logprob
      return sum
    })
  }

  async greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    return greedyGenerate(
      this.scorer,
      requests.map((r) => ({ context: r.context === '' ? [END_OF_TEXT] : encodeText(r.context), stops: r.stops, maxTokens: r.maxTokens ?? MAX_GEN_TOKENS })),
      decodeTokens
    )
  }

  private async scoreUnique(items: ScoreItem[]): Promise<LoglikelihoodResult[]> {
    const keyOf = (x: ScoreItem) => `${x.input.join(',')}|${x.continuation.join(',')}`
    const index = new Map<string, number>()
    const unique: ScoreItem[] = []
    const slot = items.map((x) => {
      const k = keyOf(x)
      let i = index.get(k)
      if (i === undefined) {
        index.set(k, (i = unique.length))
        unique.push(x)
      }
      return i
    })
    const scores = await this.scorer.score(unique)
    return slot.map((i) => ({ ...scores[i] }))
  }
}
