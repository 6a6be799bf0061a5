// The evaluator's LanguageModel over our GPT, answering requests the way the harness's GPT-2
// adapter (lm_eval/base.py, BaseLM, v0.2.0) does: GPT-2 BPE, context and continuation encoded
// separately, an empty context replaced by end-of-text, inputs left-truncated to the model's
// context; rolling log-likelihood over disjoint windows; greedy generation up to 256 tokens with
// the context cut to leave room for them. Identical requests are scored once.
import { type GreedyUntilRequest, type LoglikelihoodRequest, type LoglikelihoodResult, type LoglikelihoodRollingRequest, MAX_GEN_TOKENS } from '../../../shared/eval'
import { END_OF_TEXT, GPT2_VOCAB_SIZE, decodeTokens, encodeText } from '../../data/gpt2-tokenizer'
import type { GPT } from '../../engine/model'
import type { LanguageModel } from '../model'
import { greedyGenerate } from './generate'
import { loglikelihood, loglikelihoodRolling } from './request-items'
import { TokenScorer } from './token-scorer'

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

  loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return loglikelihood(requests, this.maxLength, (items) => this.scorer.score(items))
  }

  loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    return loglikelihoodRolling(requests, this.maxLength, (items) => this.scorer.score(items))
  }

  async greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    return greedyGenerate(
      this.scorer,
      requests.map((r) => ({ context: r.context === '' ? [END_OF_TEXT] : encodeText(r.context), stops: r.stops, maxTokens: r.maxTokens ?? MAX_GEN_TOKENS })),
      decodeTokens
    )
  }
}
