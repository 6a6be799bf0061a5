// The chart helpers: min-max decimation keeps every bucket's extremes and ends with few points,
// smoothing is TensorBoard's debiased EMA, and steps map onto tokens / time axes; the loss chart's
// legend names each kind of line drawn with its colour and dash, a lone point is drawn as a dot,
// and the x axis starts at 0 with whole-number ticks.
import { describe, expect, it } from 'vitest'
import { type ChartLine, decimate, mapSteps, smooth } from '../src/shared/charts/series'
import {
  type ChartRun,
  DASHES,
  type LineKind,
  legendItems,
  lineKind,
  padFlatRange,
  resumeMarkers,
  runLines,
  spaceTicks,
  trimEndTick,
  xScaleOptions
} from '../src/renderer/src/components/charts/chart-lines'
import type { RunOverlay, Series } from '../src/shared/run-series'

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

/** A run whose series hold `steps` train losses and validation losses at `valSteps`. */
function chartRun(id: number, color: string, steps: number, valSteps: number[], overlay?: RunOverlay): ChartRun {
  const step = Array.from({ length: steps }, (_, i) => i + 1)
  const series: Series = {
    loss: { step, value: step.map((s) => 10 - s * 0.1) },
    ...(valSteps.length ? { valLoss: { step: valSteps, value: valSteps.map((s) => 10.2 - s * 0.1) } } : {})
  }
  return { id, label: `run ${id}`, color, series, version: 1, overlay, overlayVersion: 1 }
}
const o = { xAxis: 'step' as const, smoothing: 0.6, buckets: 400 }
const TRAIN = { smoothed: true }
const VALIDATION = { smoothed: false, dashed: true, dots: true, suffix: ' val' }
const NAMES: Partial<Record<LineKind, string>> = { main: 'train loss', validation: 'validation loss', superseded: 'superseded by a resume', eval: 'eval', resume: 'resume' }

describe('loss chart lines and legend', () => {
  it('draws a single validation point as a dot, and two or more as a dashed line', () => {
    const one = runLines(chartRun(1, '#2f6fdf', 20, [10]), 'valLoss', o, VALIDATION)
    expect(one).toHaveLength(1)
    expect(one[0].points).toEqual([{ x: 10, y: expect.closeTo(9.2, 9) }])
    expect(one[0].dots).toBe(true)
    const many = runLines(chartRun(1, '#2f6fdf', 20, [5, 10, 15]), 'valLoss', o, VALIDATION)
    expect(many[0].points).toHaveLength(3)
    expect(many[0].dashed).toBe(true)
    expect(lineKind(many[0])).toBe('validation')
    expect(DASHES.validation.length).toBeGreaterThan(0)
  })

  it("draws a run's first train loss (one point, smoothed) as a dot, and no dots once it is a line", () => {
    const first = runLines(chartRun(1, '#2f6fdf', 1, []), 'loss', o, TRAIN)
    const smoothed = first.find((l) => !l.faint)!
    expect(smoothed.points).toHaveLength(1)
    expect(smoothed.dots).toBe(true)
    expect(runLines(chartRun(1, '#2f6fdf', 30, []), 'loss', o, TRAIN).some((l) => l.dots)).toBe(false)
  })

  it('names each kind of line present once, in order, with its colour and dash', () => {
    const run = chartRun(1, '#2f6fdf', 20, [5, 10])
    const lines = [...runLines(run, 'loss', o, TRAIN), ...runLines(run, 'valLoss', o, VALIDATION)]
    // Raw and smoothed train lines are one item; the unnamed kinds and those not drawn get none.
    expect(legendItems(lines, NAMES)).toEqual([
      { kind: 'main', label: 'train loss', color: '#2f6fdf', dash: [], shape: 'line' },
      { kind: 'validation', label: 'validation loss', color: '#2f6fdf', dash: DASHES.validation, shape: 'line' }
    ])
    expect(legendItems(lines, { main: 'train loss' }).map((i) => i.kind)).toEqual(['main'])
    expect(legendItems([], NAMES)).toEqual([])
  })

  it('adds resume markers and eval points when the run has them; two runs leave the colour to the runs legend', () => {
    const overlay: RunOverlay = {
      runId: 1,
      resumes: [{ id: 1, runId: 1, jobId: 3, fromStep: 10, engine: 'embedded', backend: 'native', devices: ['cpu'], startedAt: 0, loadedAt: 1 }],
      branches: [],
      evals: []
    }
    const run = chartRun(1, '#2f6fdf', 20, [5, 10], overlay)
    const evalPoint: ChartLine = { label: 'run 1 lambada/acc', color: '#2f6fdf', axis: 'y2', pointsOnly: true, points: [{ x: 10, y: 0.3 }] }
    const lines = [...runLines(run, 'loss', o, TRAIN), ...runLines(run, 'valLoss', o, VALIDATION), evalPoint, ...resumeMarkers(run, 'step')]
    const items = legendItems(lines, NAMES)
    expect(items.map((i) => [i.kind, i.shape])).toEqual([
      ['main', 'line'],
      ['validation', 'line'],
      ['eval', 'point'],
      ['resume', 'vertical']
    ])
    expect(items.find((i) => i.kind === 'resume')!.dash).toEqual(DASHES.resume)
    const other = runLines(chartRun(2, '#d9480f', 20, []), 'loss', o, TRAIN)
    expect(legendItems([...lines, ...other], NAMES)[0]).toMatchObject({ kind: 'main', color: null })
  })
})

describe('xScaleOptions', () => {
  it('starts at 0 with whole-number ticks and no ticks forced at the data bounds', () => {
    const empty = xScaleOptions([])
    expect(empty.min).toBe(0)
    expect(empty.max).toBe(10)
    expect(empty.ticks).toMatchObject({ precision: 0, includeBounds: false, autoSkip: true })
    expect(xScaleOptions([{ label: 'run 1', color: '#000', points: [] }]).max).toBe(10)
    const drawn = xScaleOptions(runLines(chartRun(1, '#2f6fdf', 106, []), 'loss', o, TRAIN))
    expect(drawn.min).toBe(0)
    expect(drawn.max).toBeUndefined()
  })
})

describe('padFlatRange', () => {
  it('widens a range flat but for rounding to 5% each way, and leaves real ranges and zero alone', () => {
    expect(padFlatRange(799.9999999999999, 800)).toEqual({ min: expect.closeTo(760, 9), max: expect.closeTo(840, 9) })
    expect(padFlatRange(-3, -3)).toEqual({ min: expect.closeTo(-3.15, 12), max: expect.closeTo(-2.85, 12) })
    expect(padFlatRange(799, 800)).toBeNull()
    expect(padFlatRange(0.0003, 0.00030001)).toBeNull()
    expect(padFlatRange(0, 0)).toBeNull()
  })
})

describe('trimEndTick', () => {
  const ticks = (...values: number[]): { value: number }[] => values.map((value) => ({ value }))
  it("drops the data's last x as a tick when it crowds the round tick before it", () => {
    expect(trimEndTick(ticks(0, 20, 40, 60, 80, 100, 106))).toEqual(ticks(0, 20, 40, 60, 80, 100))
    expect(trimEndTick(ticks(0, 20, 40, 57))).toEqual(ticks(0, 20, 40, 57))
    expect(trimEndTick(ticks(0, 10, 20, 30))).toEqual(ticks(0, 10, 20, 30))
    expect(trimEndTick(ticks(0, 1))).toEqual(ticks(0, 1))
  })
})

describe('spaceTicks', () => {
  it('keeps the first tick, then each at least the gap from the last kept (a log axis: 8.3, 8.5, 8.8, 9, 10)', () => {
    const ticks = [8.3, 8.5, 8.8, 9, 10].map((value) => ({ value }))
    // A log axis 100 px tall from 8.3 to 10: the ticks at 0, 12.8, 31.4, 43.4 and 100 px.
    const pixel = (v: number): number => (100 * Math.log(v / 8.3)) / Math.log(10 / 8.3)
    const kept = spaceTicks(ticks, pixel, 18).map((t) => t.value)
    expect(kept).toEqual([8.3, 8.8, 10])
    for (let i = 1; i < kept.length; i++) expect(pixel(kept[i]) - pixel(kept[i - 1])).toBeGreaterThanOrEqual(18)
    expect(spaceTicks(ticks, pixel, 1).length).toBe(5)
    expect(spaceTicks([], pixel, 18)).toEqual([])
  })
})
