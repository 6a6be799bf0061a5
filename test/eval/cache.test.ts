// The request cache in front of a model, over the workspace's real SQLite table: answers it has
// are not asked again, identical requests are asked once, each chunk is stored as soon as it is
// answered (so a failure later keeps it), and the checkpoint fingerprint is part of the key.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import type { EvalResult, LoglikelihoodRequest } from '../../src/shared/eval'
import { openDatabase } from '../../src/main/services/store/database'
import { EvalCacheRepo } from '../../src/main/services/store/eval-cache-repo'
import { CachedLanguageModel } from '../../src/core/eval/cache/cached-model'
import { requestKey } from '../../src/core/eval/cache/keys'
import type { EvalCacheStore } from '../../src/core/eval/cache/store'
import { EvalProgress, formatDuration } from '../../src/core/eval/progress'
import { tempDir } from '../helpers'
import { CharBigramModel } from './bigram-model'

const FP_A = 'a'.repeat(64)
const FP_B = 'b'.repeat(64)

function sqliteStore(): { store: EvalCacheStore; repo: EvalCacheRepo } {
  const repo = new EvalCacheRepo(openDatabase(path.join(tempDir('gptw-eval-cache-'), 'workbench.db')))
  return { repo, store: { get: async (fp, keys) => repo.get(fp, keys), put: (fp, entries) => repo.put(fp, entries) } }
}

const ll = (context: string, continuation: string): LoglikelihoodRequest => ({ type: 'loglikelihood', context, continuation })
const REQUESTS = [ll('The whale', ' swam'), ll('The whale', ' sank'), ll('Call me', ' Ishmael'), ll('The whale', ' swam'), ll('', 'Loomings')]

/** The bigram model, counting the requests it is asked. */
function counted() {
  const model = CharBigramModel.mobyDick(50_000)
  const asked: LoglikelihoodRequest[] = []
  const inner = model.loglikelihood.bind(model)
  model.loglikelihood = async (reqs) => {
    asked.push(...reqs)
    return inner(reqs)
  }
  return { model, asked }
}

describe('the request cache', () => {
  it('asks the model once per distinct request, and not at all the second time', async () => {
    const { store, repo } = sqliteStore()
    const first = counted()
    const a = new CachedLanguageModel(first.model, { fingerprint: FP_A, store, chunkSize: () => 2 })
    const got = await a.loglikelihood(REQUESTS)
    expect(first.asked).toHaveLength(4) // the repeated request is asked once
    expect(first.model.calls).toBe(2) // chunks of 2
    expect(got[3]).toEqual(got[0])
    expect(got).toEqual(REQUESTS.map((r) => first.model.score(r.context, r.continuation)))
    expect(repo.count(FP_A)).toBe(4)
    expect(a.stats).toEqual({ cached: 0, computed: 4 })

    const second = counted()
    const b = new CachedLanguageModel(second.model, { fingerprint: FP_A, store, chunkSize: () => 2 })
    expect(await b.loglikelihood(REQUESTS)).toEqual(got)
    expect(second.asked).toEqual([])
    expect(b.stats).toEqual({ cached: 4, computed: 0 })

    // another checkpoint's fingerprint shares nothing
    const third = counted()
    await new CachedLanguageModel(third.model, { fingerprint: FP_B, store, chunkSize: () => 8 }).loglikelihood(REQUESTS)
    expect(third.asked).toHaveLength(4)
    expect(requestKey(FP_A, REQUESTS[0])).not.toBe(requestKey(FP_B, REQUESTS[0]))
  })

  it('stores each chunk as it is answered, so a failure later keeps the earlier ones', async () => {
    const { store, repo } = sqliteStore()
    const { model } = counted()
    let chunks = 0
    const inner = model.loglikelihood.bind(model)
    model.loglikelihood = async (reqs) => {
      if (++chunks === 2) throw new Error('worker killed')
      return inner(reqs)
    }
    await expect(new CachedLanguageModel(model, { fingerprint: FP_A, store, chunkSize: () => 1 }).loglikelihood(REQUESTS)).rejects.toThrow('worker killed')
    expect(repo.count(FP_A)).toBe(1)
    const again = counted()
    const resumed = new CachedLanguageModel(again.model, { fingerprint: FP_A, store, chunkSize: () => 1 })
    await resumed.loglikelihood(REQUESTS)
    expect(resumed.stats).toEqual({ cached: 1, computed: 3 })
  })

  it('bypasses the cache entirely with no store (no_cache), and ignores a stored answer of the wrong type', async () => {
    const { store, repo } = sqliteStore()
    const { model, asked } = counted()
    await new CachedLanguageModel(model, { fingerprint: FP_A, store: null, chunkSize: () => 8 }).loglikelihood(REQUESTS)
    expect(asked).toHaveLength(4)
    expect(repo.count()).toBe(0)
    repo.put(FP_A, [{ key: requestKey(FP_A, REQUESTS[0]), requestType: 'loglikelihood', args: [], result: 'not a log-likelihood' as EvalResult }])
    const fresh = counted()
    const got = await new CachedLanguageModel(fresh.model, { fingerprint: FP_A, store, chunkSize: () => 8 }).loglikelihood([REQUESTS[0]])
    expect(fresh.asked).toHaveLength(1)
    expect(typeof got[0]).toBe('object')
  })

  it('reports progress with a rate over model work only, and an ETA at that rate', () => {
    let now = 0
    const lines: string[] = []
    const p = new EvalProgress(
      100,
      (done, total, text) => lines.push(`${done}/${total} ${text}`),
      () => now
    )
    p.answered(40, 'cache', 'copa')
    now = 2000
    p.answered(20, 'model', 'copa')
    expect(p.rate).toBe(10)
    expect(lines.at(-1)).toBe('60/100 copa | 60/100 requests | 10.0 req/s | eta 4s')
    now = 60_000
    p.resumeClock() // time spent elsewhere (building, bootstrapping) does not count
    now = 62_000
    p.answered(40, 'model', 'lambada')
    expect(p.rate).toBe(15)
    expect(lines.at(-1)).toBe('100/100 lambada | 100/100 requests | 15.0 req/s | eta 0s')
    expect([formatDuration(59), formatDuration(125), formatDuration(7300)]).toEqual(['59s', '2m05s', '2h01m'])
  })
})
