// A real, tiny language model for tests: character bigrams with add-one smoothing, trained on
// Moby-Dick. It answers the three request types from its own statistics (log-likelihoods,
// greedy argmax checks, greedy generation), so evaluation runs end to end without the GPT engine.
import fs from 'node:fs'
import type { GreedyUntilRequest, LoglikelihoodRequest, LoglikelihoodResult, LoglikelihoodRollingRequest } from '../../src/shared/eval'
import type { LanguageModel } from '../../src/core/eval/model'
import { MOBY_DICK } from '../helpers'

const START = '\n' // what an empty context conditions on (the end-of-text stand-in)

export class CharBigramModel implements LanguageModel {
  readonly id: string
  private readonly counts = new Map<string, Map<string, number>>()
  private readonly totals = new Map<string, number>()
  private readonly vocab: string[]
  calls = 0

  constructor(text: string, id = 'char-bigram') {
    this.id = id
    const chars = [...text]
    for (let i = 1; i < chars.length; i++) this.add(chars[i - 1], chars[i])
    this.vocab = [...new Set(chars)].sort()
  }

  static mobyDick(maxChars = 400_000): CharBigramModel {
    return new CharBigramModel(fs.readFileSync(MOBY_DICK, 'utf8').slice(0, maxChars), 'moby-dick-bigram')
  }

  private add(a: string, b: string): void {
    const row = this.counts.get(a) ?? new Map<string, number>()
    row.set(b, (row.get(b) ?? 0) + 1)
    this.counts.set(a, row)
    this.totals.set(a, (this.totals.get(a) ?? 0) + 1)
  }

  /** log P(b | a), add-one smoothed over the vocabulary plus one unknown symbol */
  logp(a: string, b: string): number {
    const c = this.counts.get(a)?.get(b) ?? 0
    return Math.log((c + 1) / ((this.totals.get(a) ?? 0) + this.vocab.length + 1))
  }

  argmaxNext(a: string): string {
    let best = this.vocab[0]
    let bestLp = -Infinity
    for (const v of this.vocab) {
      const lp = this.logp(a, v)
      if (lp > bestLp) {
        bestLp = lp
        best = v
      }
    }
    return best
  }

  score(context: string, continuation: string): LoglikelihoodResult {
    let prev = context.length ? [...context].at(-1)! : START
    let logprob = 0
    let isGreedy = true
    for (const ch of continuation) {
      logprob += this.logp(prev, ch)
      if (this.argmaxNext(prev) !== ch) isGreedy = false
      prev = ch
    }
    return { logprob, isGreedy }
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    this.calls++
    return requests.map((r) => this.score(r.context, r.continuation))
  }

  async loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    this.calls++
    return requests.map((r) => this.score('', r.text).logprob)
  }

  async greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    this.calls++
    return requests.map((r) => {
      let prev = r.context.length ? [...r.context].at(-1)! : START
      let out = ''
      for (let i = 0; i < (r.maxTokens ?? 48); i++) {
        const next = this.argmaxNext(prev)
        out += next
        prev = next
        const stop = r.stops.map((s) => out.indexOf(s)).filter((k) => k >= 0)
        if (stop.length) return out.slice(0, Math.min(...stop))
      }
      return out
    })
  }
}
