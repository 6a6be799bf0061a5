// A LanguageModel in front of another that answers from the request cache first (the harness's
// CachingLM, keyed by checkpoint fingerprint as well), then sends the rest to the model in chunks
// (longest first, so each chunk batches sequences of similar length) and stores each chunk's
// results as soon as it has them: a re-run asks the model nothing it has answered, and a run killed
// half-way loses at most one chunk. Identical requests within a call are asked once.
import type { EvalRequest, EvalResult, GreedyUntilRequest, LoglikelihoodRequest, LoglikelihoodResult, LoglikelihoodRollingRequest } from '../../../shared/eval'
import type { EvalCacheEntry } from '../../../shared/protocol'
import type { LanguageModel } from '../model'
import { requestArgs, requestKey } from './keys'
import type { EvalCacheStore } from './store'

export type RequestType = EvalRequest['type']

export interface CachedModelOptions {
  fingerprint: string
  /** null bypasses the cache: nothing is read or written (the seed's no_cache). */
  store: EvalCacheStore | null
  /** Requests per model call: the unit of progress, of pausing, and of what a crash can lose. */
  chunkSize: (type: RequestType) => number
  /** Awaited before each model call: waits while the job is paused, throws when it is cancelled. */
  between?: () => Promise<void>
  /** Requests answered so far in this call batch, and where from. */
  onAnswered?: (count: number, source: 'cache' | 'model') => void
}

const matchesType: Record<RequestType, (r: EvalResult) => boolean> = {
  loglikelihood: (r) => typeof r === 'object' && r !== null && typeof r.logprob === 'number' && typeof r.isGreedy === 'boolean',
  loglikelihood_rolling: (r) => typeof r === 'number',
  greedy_until: (r) => typeof r === 'string'
}

/** A request's size for ordering: longer prompts first, as the harness reorders them. */
function requestLength(r: EvalRequest): number {
  return r.type === 'loglikelihood_rolling' ? r.text.length : r.type === 'loglikelihood' ? r.context.length + r.continuation.length : r.context.length
}

export class CachedLanguageModel implements LanguageModel {
  /** Distinct requests answered from the cache and by the model since this wrapper was made. */
  readonly stats = { cached: 0, computed: 0 }

  constructor(
    private readonly inner: LanguageModel,
    private readonly options: CachedModelOptions
  ) {}

  get id(): string {
    return this.inner.id
  }

  loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return this.answer(requests, (chunk) => this.inner.loglikelihood(chunk)) as Promise<LoglikelihoodResult[]>
  }

  loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    return this.answer(requests, (chunk) => this.inner.loglikelihoodRolling(chunk)) as Promise<number[]>
  }

  greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    return this.answer(requests, (chunk) => this.inner.greedyUntil(chunk)) as Promise<string[]>
  }

  private async answer<R extends EvalRequest>(requests: readonly R[], ask: (chunk: R[]) => Promise<EvalResult[]>): Promise<EvalResult[]> {
    if (!requests.length) return []
    const type = requests[0].type
    const { fingerprint, store } = this.options
    const keys = requests.map((r) => requestKey(fingerprint, r))
    const first = new Map<string, R>()
    keys.forEach((k, i) => first.has(k) || first.set(k, requests[i]))
    const known = new Map<string, EvalResult>()
    if (store) {
      for (const [k, v] of await store.get(fingerprint, [...first.keys()])) if (first.has(k) && matchesType[type](v)) known.set(k, v)
    }
    this.stats.cached += known.size
    const fromCache = keys.filter((k) => known.has(k)).length
    if (fromCache) this.options.onAnswered?.(fromCache, 'cache')

    const missing = [...first.entries()].filter(([k]) => !known.has(k)).sort(([, a], [, b]) => requestLength(b) - requestLength(a))
    const copies = new Map<string, number>()
    for (const k of keys) copies.set(k, (copies.get(k) ?? 0) + 1)
    const size = Math.max(1, this.options.chunkSize(type))
    for (let s = 0; s < missing.length; s += size) {
      await this.options.between?.()
      const chunk = missing.slice(s, s + size)
      const results = await ask(chunk.map(([, r]) => r))
      if (results.length !== chunk.length) throw new Error(`model ${this.id} returned ${results.length} results for ${chunk.length} ${type} requests`)
      const entries: EvalCacheEntry[] = chunk.map(([key, r], j) => ({ key, requestType: type, args: requestArgs(r), result: results[j] }))
      entries.forEach((e) => known.set(e.key, e.result))
      this.stats.computed += chunk.length
      store?.put(fingerprint, entries)
      this.options.onAnswered?.(
        chunk.reduce((n, [k]) => n + copies.get(k)!, 0),
        'model'
      )
    }
    return keys.map((k) => known.get(k)!)
  }
}
