// Sampling maths on fixed logits: each filter gives the distribution it should (exactly, on
// hand-worked cases), draws follow that distribution, greedy is the argmax, a seed makes draws
// reproducible, and padded vocabulary entries are never produced.
import { describe, expect, it } from 'vitest'
import { Rng } from '../../src/core/rng'
import { applyRepetitionPenalty, argmax, chooseToken, samplingDistribution, tokenLogprob, topIndices } from '../../src/core/generate/sampling'

const off = { temperature: 1, topK: 0, topP: 0 }
const logitsOf = (probs: number[]): Float32Array => Float32Array.from(probs.map(Math.log))
const close = (got: ArrayLike<number>, want: number[], tol = 1e-6): void => {
  expect(got.length).toBe(want.length)
  for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `entry ${i}: ${got[i]} vs ${want[i]}`).toBeLessThan(tol)
}

describe('sampling distribution', () => {
  it('temperature scales logits before the softmax', () => {
    const l = [2, 1, 0.5, 0, -1]
    for (const t of [0.25, 0.7, 1, 3]) {
      const e = l.map((x) => Math.exp(x / t))
      const z = e.reduce((a, b) => a + b)
      close(
        samplingDistribution(Float32Array.from(l), 5, { ...off, temperature: t }),
        e.map((x) => x / z),
        1e-6
      )
    }
    // Lower temperature sharpens: the top token gains probability.
    const cold = samplingDistribution(Float32Array.from(l), 5, { ...off, temperature: 0.5 })
    const hot = samplingDistribution(Float32Array.from(l), 5, { ...off, temperature: 2 })
    expect(cold[0]).toBeGreaterThan(hot[0])
  })

  it('top-k keeps the k largest logits, renormalised (ties with the k-th kept, as the seed)', () => {
    close(samplingDistribution(logitsOf([0.1, 0.4, 0.2, 0.3]), 4, { ...off, topK: 2 }), [0, 4 / 7, 0, 3 / 7])
    close(samplingDistribution(logitsOf([0.1, 0.4, 0.2, 0.3]), 4, { ...off, topK: 1 }), [0, 1, 0, 0])
    close(samplingDistribution(logitsOf([0.3, 0.3, 0.3, 0.1]), 4, { ...off, topK: 2 }), [1 / 3, 1 / 3, 1 / 3, 0])
    // k at or past the vocabulary is no filter.
    close(samplingDistribution(logitsOf([0.1, 0.4, 0.2, 0.3]), 4, { ...off, topK: 4 }), [0.1, 0.4, 0.2, 0.3])
  })

  it('top-p keeps tokens while the mass before them is at most p', () => {
    const l = logitsOf([0.05, 0.5, 0.15, 0.3])
    close(samplingDistribution(l, 4, { ...off, topP: 0.4 }), [0, 1, 0, 0])
    close(samplingDistribution(l, 4, { ...off, topP: 0.6 }), [0, 0.5 / 0.8, 0, 0.3 / 0.8])
    close(samplingDistribution(l, 4, { ...off, topP: 0.85 }), [0, 0.5 / 0.95, 0.15 / 0.95, 0.3 / 0.95])
    close(samplingDistribution(l, 4, { ...off, topP: 0.99 }), [0.05, 0.5, 0.15, 0.3])
  })

  it('applies temperature, then top-k, then top-p', () => {
    // p^2 after temperature 0.5: [.16 .09 .04 .01]/.30; top-k 3 drops .01; top-p .7 keeps .16/.29 and .09/.29.
    close(samplingDistribution(logitsOf([0.4, 0.3, 0.2, 0.1]), 4, { temperature: 0.5, topK: 3, topP: 0.7 }), [0.64, 0.36, 0, 0])
  })

  it('matches a plain full-sort nucleus on a GPT-2 sized vocabulary', () => {
    const rng = new Rng(5)
    const vocab = 50257
    const logits = new Float32Array(vocab + 47).map((_, i) => (i < vocab ? 4 * Math.log(rng.next() + 1e-9) * rng.next() : 50))
    for (const [temperature, topK, topP] of [
      [1, 0, 0.9],
      [0.7, 0, 0.5],
      [1.3, 100, 0.95],
      [1, 0, 0.999]
    ]) {
      const got = samplingDistribution(logits, vocab, { temperature, topK, topP })
      // Reference: softmax of logits/T over the real vocab, top-k by full sort, nucleus by full sort.
      const order = [...Array(vocab).keys()].sort((a, b) => logits[b] - logits[a] || a - b)
      const allowed = new Set(topK ? order.filter((i) => logits[i] >= logits[order[topK - 1]]) : order)
      const max = logits[order[0]]
      const w = order.map((i) => (allowed.has(i) ? Math.exp((logits[i] - max) / temperature) : 0))
      const z = w.reduce((a, b) => a + b)
      const want = new Float64Array(vocab)
      let before = 0
      let kept = 0
      order.forEach((i, r) => {
        if (before > topP) return
        want[i] = w[r] / z
        before += w[r] / z
        kept += w[r] / z
      })
      for (let i = 0; i < vocab; i++) want[i] /= kept
      let worst = 0
      for (let i = 0; i < vocab; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]))
      expect(worst, `T ${temperature} k ${topK} p ${topP}`).toBeLessThan(1e-9)
    }
  })

  it('draws follow the filtered distribution (60,000 draws) and never pick a filtered token', () => {
    const logits = logitsOf([0.05, 0.35, 0.1, 0.2, 0.3])
    const params = { temperature: 0.9, topK: 4, topP: 0.8, repetitionPenalty: 1 }
    const want = samplingDistribution(logits, 5, params)
    const counts = new Array(5).fill(0)
    const rng = new Rng(123)
    const n = 60_000
    for (let i = 0; i < n; i++) counts[chooseToken(logits, 5, params, [], rng)]++
    for (let i = 0; i < 5; i++) {
      if (want[i] === 0) expect(counts[i], `token ${i} is filtered out`).toBe(0)
      // 5 standard errors of a binomial proportion.
      else expect(Math.abs(counts[i] / n - want[i])).toBeLessThan(5 * Math.sqrt((want[i] * (1 - want[i])) / n))
    }
    expect(want.filter((p) => p > 0).length).toBe(3) // top-k drops one token and top-p another
  })
})

describe('repetition penalty and greedy', () => {
  it('divides positive and multiplies negative logits of tokens already seen, once each', () => {
    const l = Float32Array.from([2, -1, 0.5, 3])
    applyRepetitionPenalty(l, [0, 1, 1, 1], 2, 4)
    close(l, [1, -2, 0.5, 3])
  })

  it('turns the argmax away from a repeated token', () => {
    const l = Float32Array.from([2, 1.9, -3])
    const rng = new Rng(1)
    const greedy = { temperature: 0, topK: 0, topP: 0 }
    expect(chooseToken(l, 3, { ...greedy, repetitionPenalty: 1 }, [0], rng)).toBe(0)
    expect(chooseToken(l, 3, { ...greedy, repetitionPenalty: 1.2 }, [0], rng)).toBe(1)
    expect(Array.from(l)).toEqual([2, 1.899999976158142, -3]) // the caller's logits are left alone
  })

  it('greedy equals the argmax, whatever top-k and top-p say, and uses no randomness', () => {
    const rng = new Rng(9)
    for (let trial = 0; trial < 50; trial++) {
      const l = Float32Array.from({ length: 300 }, () => rng.next() * 10 - 5)
      let best = 0
      for (let i = 1; i < 300; i++) if (l[i] > l[best]) best = i
      const before = rng.state
      for (const f of [
        { topK: 0, topP: 0 },
        { topK: 5, topP: 0.3 }
      ])
        expect(chooseToken(l, 300, { temperature: 0, repetitionPenalty: 1, ...f }, [], rng)).toBe(best)
      expect(rng.state).toBe(before)
    }
    expect(argmax([1, 3, 3, 2])).toBe(1)
  })
})

describe('seeds and the padded vocabulary', () => {
  it('the same seed draws the same tokens; another seed draws others', () => {
    const logits = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i))
    const run = (seed: number): number[] => {
      const rng = new Rng(seed)
      return Array.from({ length: 200 }, () => chooseToken(logits, 64, { temperature: 1.5, topK: 0, topP: 0, repetitionPenalty: 1 }, [], rng))
    }
    expect(run(7)).toEqual(run(7))
    expect(run(8)).not.toEqual(run(7))
  })

  it('never produces a padded vocabulary entry, even when its logit is the largest', () => {
    const vocab = 50
    const logits = new Float32Array(64).map((_, i) => (i < vocab ? Math.cos(i) : 1e4))
    const rng = new Rng(3)
    for (const params of [
      { temperature: 0, topK: 0, topP: 0, repetitionPenalty: 1 },
      { temperature: 5, topK: 0, topP: 0, repetitionPenalty: 1 },
      { temperature: 1, topK: 60, topP: 0.99, repetitionPenalty: 1.3 }
    ]) {
      for (let i = 0; i < 3000; i++) expect(chooseToken(logits, vocab, params, [1, 2, 60], rng)).toBeLessThan(vocab)
    }
    // The logprobs the API reports: over the real vocabulary only (a padded entry's 1e4 would put every real token near -1e4).
    const lp = tokenLogprob(logits, vocab, 0, 10)
    expect(lp.top.map((t) => t.id)).toEqual(topIndices(logits, 10, vocab))
    expect(lp.top.every((t) => t.id < vocab)).toBe(true)
    const lse = Math.log(Array.from(logits.subarray(0, vocab), Math.exp).reduce((a, b) => a + b, 0))
    expect(lp.logprob).toBeCloseTo(logits[0] - lse, 5)
    expect(lp.top.reduce((a, t) => a + Math.exp(t.logprob), 0)).toBeLessThanOrEqual(1 + 1e-9)
  })

  it('topIndices agrees with a full sort', () => {
    const rng = new Rng(11)
    const values = Array.from({ length: 1000 }, () => Math.round(rng.next() * 50))
    const sorted = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b)
    for (const k of [1, 7, 100, 1000, 2000]) expect(topIndices(values, k)).toEqual(sorted.slice(0, k))
  })
})
