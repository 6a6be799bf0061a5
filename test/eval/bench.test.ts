// evalBench (for `npm run bench`): its requests are distinct (the adapter scores duplicates once,
// which would flatter the rate) and it measures the bench preset's model through the adapter.
// A handful of requests only: this checks the wiring, it is not a speed measurement.
import { describe, expect, it } from 'vitest'
import { benchRequests, evalBench } from '../../src/core/eval/bench'
import { RESOURCES_DIR, expectRateOf } from '../helpers'

describe('evalBench', () => {
  it('makes distinct multiple-choice-shaped requests', () => {
    const reqs = benchRequests(300)
    expect(new Set(reqs.map((r) => JSON.stringify(r))).size).toBe(300)
    expect(reqs.every((r) => r.continuation.startsWith(' ') && r.context.length > 20)).toBe(true)
    expect(() => benchRequests(5000)).toThrow(/at most \d+ distinct requests/)
  })

  it('reports loglikelihood requests per second on the bench preset', async () => {
    const r = await evalBench(RESOURCES_DIR, { requests: 8, backend: 'wasm' })
    expect(r).toMatchObject({ backend: 'wasm', preset: 'bench', requests: 8, batch_size: 8, n_ctx: 128 })
    expect(r.loglikelihood_requests_per_s).toBeGreaterThan(0)
    expectRateOf(r.loglikelihood_requests_per_s, 8, r.seconds)
  }, 120_000)
})
