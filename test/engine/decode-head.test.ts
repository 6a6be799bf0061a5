// The native lm head of a batched decode step (rowsTimesTransposed: a few rows against the tied
// embedding read as it lies) against a float64 reference, and the property the serving tests rely
// on: a row's logits are the same bits whatever else is in the batch and wherever the row falls.
import { describe, expect, it } from 'vitest'
import { loadNative } from '../../src/core/engine/native'

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 32 - 0.5
  }
  return out
}

describe('native rowsTimesTransposed (the decode step lm head)', () => {
  const addon = loadNative()
  const requireNative = process.env.GPTW_REQUIRE_NATIVE === '1' || (process.env.CI === 'true' && process.env.GPTW_NATIVE !== '0')
  const native = addon.kernels
  const skip = !native && !requireNative

  it.skipIf(skip)('c = a b^T within float tolerance, for 1 to 20 rows, tails of b, odd and long k', () => {
    if (!native) throw new Error(`The native addon is required here but did not load: ${addon.reason}`)
    for (const [n, k] of [
      [203, 37],
      [1000, 256],
      [61, 300]
    ]) {
      const b = random(n * k, n + k)
      for (const m of [1, 2, 5, 8, 9, 16, 17, 20]) {
        const a = random(m * k, m * 31 + k)
        const c = new Float32Array(m * n).fill(Number.NaN)
        native.rowsTimesTransposed(a, b, m, n, k, c)
        let worst = 0
        for (let i = 0; i < m; i++)
          for (let j = 0; j < n; j++) {
            let want = 0
            for (let p = 0; p < k; p++) want += a[i * k + p] * b[j * k + p]
            worst = Math.max(worst, Math.abs(c[i * n + j] - want))
          }
        expect(worst, `m ${m}, n ${n}, k ${k}`).toBeLessThan(1e-5 * k)
      }
    }
  })

  it.skipIf(skip)("a row's values are the same bits alone and at any place in a batch of any size", () => {
    if (!native) throw new Error(`The native addon is required here but did not load: ${addon.reason}`)
    const n = 1003
    const k = 256
    const b = random(n * k, 7)
    const rows = 20
    const a = random(rows * k, 8)
    const alone = (i: number): Float32Array => {
      const c = new Float32Array(n)
      native.rowsTimesTransposed(a.subarray(i * k, (i + 1) * k), b, 1, n, k, c)
      return c
    }
    const single = Array.from({ length: rows }, (_, i) => alone(i))
    for (const m of [2, 3, 8, 9, 16, 20]) {
      const c = new Float32Array(m * n)
      native.rowsTimesTransposed(a.subarray(0, m * k), b, m, n, k, c)
      for (let i = 0; i < m; i++) expect(c.subarray(i * n, (i + 1) * n), `row ${i} of ${m}`).toEqual(single[i])
    }
  })

  it.skipIf(skip)('refuses arrays too short for the shape, naming the argument', () => {
    if (!native) throw new Error(`The native addon is required here but did not load: ${addon.reason}`)
    const f = (n: number): Float32Array => new Float32Array(n)
    expect(() => native.rowsTimesTransposed(f(7), f(12), 2, 3, 4, f(6))).toThrow(/a is too short/)
    expect(() => native.rowsTimesTransposed(f(8), f(11), 2, 3, 4, f(6))).toThrow(/b is too short/)
    expect(() => native.rowsTimesTransposed(f(8), f(12), 2, 3, 4, f(5))).toThrow(/c is too short/)
  })
})
