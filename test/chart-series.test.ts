// The chart helpers: min-max decimation keeps every bucket's extremes and ends with few points,
// smoothing is TensorBoard's debiased EMA, and steps map onto tokens / time axes.
import { describe, expect, it } from 'vitest'
import { decimate, mapSteps, smooth } from '../src/shared/charts/series'

/** A falling, noisy loss curve with one planted spike, 100k points. */
function lossCurve(n: number): { xs: number[]; ys: number[] } {
  let seed = 12345
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31
  const xs = Array.from({ length: n }, (_, i) => i + 1)
  const ys = xs.map((x) => 3 + 8 * Math.exp(-x / 5000) + (rand() - 0.5) * 0.4)
  if (n > 77_777) {
    ys[61_234] = 25 // a loss spike that must survive
    ys[77_777] = 0.5 // and a dip
  }
  return { xs, ys }
}

describe('decimate', () => {
  const { xs, ys } = lossCurve(100_000)
  const buckets = 800
  const out = decimate(xs, ys, buckets)

  it('draws at most 4 points per bucket from 100k', () => {
    expect(out.length).toBeLessThanOrEqual(4 * buckets)
    expect(out.length).toBeGreaterThan(2 * buckets) // first/last/min/max mostly distinct in noisy data
  })

  it('keeps the first and last points, the spike and the dip, in x order, all from the input', () => {
    expect(out[0]).toEqual({ x: 1, y: ys[0] })
    expect(out.at(-1)).toEqual({ x: 100_000, y: ys.at(-1) })
    expect(out).toContainEqual({ x: 61_235, y: 25 })
    expect(out).toContainEqual({ x: 77_778, y: 0.5 })
    for (let i = 1; i < out.length; i++) expect(out[i].x).toBeGreaterThan(out[i - 1].x)
    for (const p of out) expect(ys[p.x - 1]).toBe(p.y)
  })

  it("keeps each bucket's lowest and highest value", () => {
    const width = 100_000 / buckets
    for (let b = 0; b < buckets; b += 37) {
      const lo = b * width
      const raw = ys.filter((_, i) => xs[i] - 1 >= lo && xs[i] - 1 < lo + width)
      const kept = out.filter((p) => p.x - 1 >= lo && p.x - 1 < lo + width).map((p) => p.y)
      expect(Math.max(...kept)).toBe(Math.max(...raw))
      expect(Math.min(...kept)).toBe(Math.min(...raw))
    }
  })

  it('passes small series through, dropping only non-finite values', () => {
    expect(decimate([1, 2, 3, 4], [5, NaN, 7, 8], 800)).toEqual([
      { x: 1, y: 5 },
      { x: 3, y: 7 },
      { x: 4, y: 8 }
    ])
    expect(decimate([], [], 10)).toEqual([])
  })
})

describe('smooth', () => {
  it('is the identity at weight 0 and debiased at the start', () => {
    expect([...smooth([3, 1, 2], 0)]).toEqual([3, 1, 2])
    expect([...smooth([5, 5, 5, 5], 0.9)]).toEqual([5, 5, 5, 5].map(() => expect.closeTo(5, 12)))
    const [a, b] = smooth([1, 0], 0.5)
    expect(a).toBeCloseTo(1, 12)
    expect(b).toBeCloseTo(0.25 / 0.75, 12)
  })

  it('flattens noise: a smoothed noisy curve moves much less from point to point', () => {
    const { ys } = lossCurve(20_000)
    const roughness = (v: number[]): number => v.slice(1).reduce((s, y, i) => s + Math.abs(y - v[i]), 0)
    expect(roughness([...smooth(ys, 0.95)])).toBeLessThan(roughness(ys) / 10)
  })
})

describe('mapSteps', () => {
  it('puts each step at the value the axis series had then, or the nearest earlier one', () => {
    const axisSteps = [1, 2, 3, 4, 6]
    const tokens = axisSteps.map((s) => s * 128)
    expect([...mapSteps([1, 3, 5, 6], axisSteps, tokens)]).toEqual([128, 384, 512, 768])
    expect([...mapSteps([2, 3], [], [])]).toEqual([2, 3])
  })
})
