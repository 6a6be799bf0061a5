// greedy_until: argmax decoding, a batch of requests at a time, until a stop string appears or
// the token budget is spent; the text is then cut before the first stop, as the harness does
// (`for term in until: s = s.split(term)[0]`). The harness keeps the last (max_length - 256)
// context tokens so the generation fits the model; a model whose context is not longer than the
// budget keeps the last half of its context, and the window then slides over the generated text.
import type { TokenScorer } from './token-scorer'

export interface GenerationRequest {
  context: number[]
  stops: readonly string[]
  maxTokens: number
}

export function contextBudget(contextLength: number, maxTokens: number): number {
  return contextLength > maxTokens ? contextLength - maxTokens : Math.max(1, Math.floor(contextLength / 2))
}

/** Text before the first occurrence of each stop in turn (the harness's split loop). */
export function cutAtStops(text: string, stops: readonly string[]): string {
  let s = text
  for (const stop of stops) s = s.split(stop)[0]
  return s
}

export async function greedyGenerate(scorer: TokenScorer, requests: readonly GenerationRequest[], decode: (ids: number[]) => string): Promise<string[]> {
  const n = scorer.contextLength
  const live = requests.map((r, i) => ({
    i,
    tokens: r.context.slice(-contextBudget(n, r.maxTokens)),
    generated: [] as number[],
    stops: r.stops,
    maxTokens: r.maxTokens
  }))
  const out = new Array<string>(requests.length)
  let active = live
  while (active.length) {
    const next = await scorer.nextTokens(active.map((s) => s.tokens.slice(-n)))
    active.forEach((s, k) => {
      s.tokens.push(next[k])
      s.generated.push(next[k])
    })
    active = active.filter((s) => {
      const text = decode(s.generated)
      const stopped = s.stops.some((stop) => text.includes(stop))
      if (!stopped && s.generated.length < s.maxTokens) return true
      out[s.i] = cutAtStops(text, s.stops)
      return false
    })
  }
  return out
}
