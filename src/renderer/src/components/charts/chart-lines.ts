// Builds the lines a run chart draws from runs' series: x by step, tokens or training time,
// smoothing, and decimation to about one bucket per horizontal pixel. A resumed run's line is
// broken at each resume (one dataset per piece), the rows a resume took off it are drawn apart
// as its superseded branch, resumes are vertical markers, and eval scores points on a second axis.
import { evalBranch, evalKey, evalLine, lineBreaks, resumeLines, splitAtBreaks } from '../../../../shared/charts/resumes'
import { type ChartLine, type XY, decimate, mapSteps, smooth } from '../../../../shared/charts/series'
import type { RunOverlay, Series, XAxis } from '../../../../shared/run-series'

export const RUN_COLORS = ['#2f6fdf', '#d9480f', '#2b8a3e', '#9c36b5', '#e67700', '#0b7285', '#c2255c', '#5c940d']

export interface ChartRun {
  id: number
  label: string
  color: string
  series: Series | undefined
  /** Changes whenever the run's series change. */
  version: number
  /** Resumes, superseded branches and eval scores (runs.overlay); changes with overlayVersion. */
  overlay?: RunOverlay
  overlayVersion?: number
}

export interface LineOptions {
  xAxis: XAxis
  smoothing: number
  buckets: number
}

function xsFor(series: Series, steps: number[], axis: XAxis): ArrayLike<number> {
  if (axis === 'step') return steps
  const ref = series[axis === 'tokens' ? 'tokens' : 'elapsed']
  return ref ? mapSteps(steps, ref.step, ref.value) : steps
}

export interface LineStyle {
  smoothed: boolean
  dashed?: boolean
  dots?: boolean
  suffix?: string
}

/** One piece of a line (between resumes): smoothed on its own, so the average does not run across a resume. */
function pieceLines(label: string, color: string, xs: ArrayLike<number>, values: ArrayLike<number>, buckets: number, o: LineOptions, style: LineStyle, branch: boolean): ChartLine[] {
  if (style.smoothed && o.smoothing > 0) {
    const points = decimate(xs, smooth(values, o.smoothing), buckets)
    // A single point draws no line: it is drawn as a dot (so are the one-point pieces after a resume).
    const smoothed: ChartLine = { label, color, points, dashed: style.dashed, branch, ...(points.length === 1 ? { dots: true } : {}) }
    // A branch draws its smoothed line only: a faint raw line under a pale dotted one reads as noise.
    return branch ? [smoothed] : [{ label: `${label} (raw)`, color, points: decimate(xs, values, buckets), faint: true }, smoothed]
  }
  const points = decimate(xs, values, buckets)
  return [{ label, color, points, dashed: style.dashed, dots: (style.dots && values.length <= 60) || points.length === 1, branch }]
}

/** A series cut at the breaks, each piece its own lines with a share of the buckets. */
function brokenLines(label: string, color: string, series: Series, s: { step: number[]; value: number[] }, breaks: number[], o: LineOptions, style: LineStyle, branch: boolean): ChartLine[] {
  const xs = xsFor(series, s.step, o.xAxis)
  const n = s.step.length
  return splitAtBreaks(s.step, breaks).flatMap(([a, b]) =>
    pieceLines(label, color, Array.prototype.slice.call(xs, a, b) as number[], s.value.slice(a, b), Math.max(8, Math.round((o.buckets * (b - a)) / n)), o, style, branch)
  )
}

/**
 * One run's lines for one metric; a smoothed metric gets a faint raw line under the smoothed one.
 * Broken at each resume still on the line; each superseded branch follows, dotted and pale.
 */
export function runLines(run: ChartRun, metric: string, o: LineOptions, style: LineStyle): ChartLine[] {
  const s = run.series?.[metric]
  const label = `${run.label}${style.suffix ?? ''}`
  const resumes = run.overlay?.resumes ?? []
  const out = s && s.step.length ? brokenLines(label, run.color, run.series!, s, lineBreaks(resumes), o, style, false) : []
  for (const b of run.overlay?.branches ?? []) {
    const bs = b.series[metric]
    const from = resumes.find((r) => r.id === b.resumeId)?.fromStep
    if (bs?.step.length) out.push(...brokenLines(`${label} (superseded by the resume from step ${from})`, run.color, b.series, bs, lineBreaks(resumes, b.resumeId), o, style, true))
  }
  return out
}

/** x of a step on the chosen axis, from the run's current series (tokens or elapsed at that step). */
function xOfStep(run: ChartRun, step: number, axis: XAxis): number {
  return run.series ? xsFor(run.series, [step], axis)[0] : step
}

/** A vertical marker per resume of the run, hover text saying from where and on what. */
export function resumeMarkers(run: ChartRun, axis: XAxis): ChartLine[] {
  return (run.overlay?.resumes ?? []).map((r) => {
    const x = xOfStep(run, r.fromStep, axis)
    const tip = [run.label, ...resumeLines(r)]
    return {
      label: `${run.label} resume from step ${r.fromStep}`,
      color: run.color,
      axis: 'marker',
      points: [
        { x, y: 0 },
        { x, y: 1 }
      ],
      tips: [tip, tip]
    }
  })
}

/** Key of an eval point for a click: the run, its step and the checkpoint folder. */
export interface EvalTarget {
  runId: number
  step: number
  checkpoint: string
}
export const targetKey = (t: EvalTarget): string => JSON.stringify(t)

/**
 * The run's scores for one task/metric as points on the second axis at their checkpoint's step:
 * those of its current line, then (hollow) those of checkpoints a resume trained again.
 */
export function evalLines(run: ChartRun, key: string, axis: XAxis): ChartLine[] {
  const resumes = run.overlay?.resumes ?? []
  const points = (run.overlay?.evals ?? []).filter((p) => evalKey(p) === key).sort((a, b) => a.step - b.step || a.createdAt - b.createdAt)
  const line = (branch: boolean): ChartLine | null => {
    const ps = points.filter((p) => (evalBranch(p, resumes) !== null) === branch)
    if (!ps.length) return null
    return {
      label: `${run.label} ${key}${branch ? ' (superseded)' : ''}`,
      color: run.color,
      axis: 'y2',
      pointsOnly: true,
      branch,
      points: ps.map((p) => ({ x: xOfStep(run, p.step, axis), y: p.value })),
      tips: ps.map((p) => [run.label, evalLine(p), branch ? 'of a checkpoint trained again after a resume' : 'click: open the eval matrix at this checkpoint']),
      // A superseded score's folder now holds the checkpoint trained again: nothing to open.
      ...(branch ? {} : { keys: ps.map((p) => targetKey({ runId: run.id, step: p.step, checkpoint: p.checkpoint })) })
    }
  }
  return [line(false), line(true)].filter((l): l is ChartLine => l !== null)
}

/**
 * Remembers each run's lines per metric until its series or the options change, so a new point
 * in one run, or a run added to the comparison, recomputes only what changed.
 */
export class LineCache {
  private readonly lines = new Map<string, ChartLine[]>()
  private readonly used = new Set<string>()

  get(run: ChartRun, metric: string, o: LineOptions, style: LineStyle): ChartLine[] {
    const key = [run.id, run.version, run.overlayVersion ?? 0, run.label, run.color, metric, o.xAxis, style.smoothed ? o.smoothing : 0, o.buckets].join('|')
    this.used.add(key)
    let found = this.lines.get(key)
    if (!found) {
      found = runLines(run, metric, o, style)
      this.lines.set(key, found)
    }
    return found
  }

  /** Forgets what the last build did not use. */
  sweep(): void {
    for (const key of this.lines.keys()) if (!this.used.has(key)) this.lines.delete(key)
    this.used.clear()
  }
}

export function formatX(axis: XAxis): (x: number) => string {
  if (axis === 'tokens') return (x) => (x >= 1e6 ? `${+(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${+(x / 1e3).toFixed(1)}k` : String(Math.round(x)))
  if (axis === 'time') return (x) => (x >= 3600 ? `${(x / 3600).toFixed(1)}h` : x >= 60 ? `${Math.floor(x / 60)}m${String(Math.round(x % 60)).padStart(2, '0')}` : `${x.toFixed(0)}s`)
  return (x) => String(Math.round(x))
}

export const X_TITLES: Record<XAxis, string> = { step: 'step', tokens: 'tokens', time: 'training time' }

export type { XY }

/** What a line stands for, one legend item each: the metric (train loss), validation, a superseded branch, eval points, resume markers. */
export type LineKind = 'main' | 'validation' | 'superseded' | 'eval' | 'resume'
const KIND_ORDER: LineKind[] = ['main', 'validation', 'superseded', 'eval', 'resume']

/** The dash of each kind of line, shared by the chart's datasets and the legend's swatches so they match. */
export const DASHES: Record<LineKind, number[]> = { main: [], validation: [5, 4], superseded: [1.5, 3], eval: [], resume: [3, 3] }

export function lineKind(l: ChartLine): LineKind {
  if (l.axis === 'marker') return 'resume'
  if (l.axis === 'y2') return 'eval'
  if (l.branch) return 'superseded'
  return l.dashed ? 'validation' : 'main'
}

export interface LegendItem {
  kind: LineKind
  label: string
  /** The lines' colour when they share one (one run), else null: the swatch then uses the text colour (the runs' colours are in the runs' legend). */
  color: string | null
  dash: number[]
  /** How the swatch draws: a line, a diamond (eval points) or a vertical line (resume markers). */
  shape: 'line' | 'point' | 'vertical'
}

/** One legend item per kind of line present and named in `names`, in a fixed order. */
export function legendItems(lines: ChartLine[], names: Partial<Record<LineKind, string>>): LegendItem[] {
  return KIND_ORDER.flatMap((kind) => {
    const label = names[kind]
    const of = lines.filter((l) => lineKind(l) === kind && l.points.length > 0)
    if (!label || !of.length) return []
    const colors = new Set(of.map((l) => l.color))
    return [{ kind, label, color: colors.size === 1 ? of[0].color : null, dash: DASHES[kind], shape: kind === 'eval' ? 'point' : kind === 'resume' ? 'vertical' : 'line' }]
  })
}

/**
 * A y range flat but for rounding (a steady metric smoothed: 799.9999999999999 to 800) widened to
 * 5% of its value each way (as Chart.js widens an exactly flat one), so the ticks read "760 ... 840"
 * rather than 16 digits; null otherwise.
 */
export function padFlatRange(min: number, max: number): { min: number; max: number } | null {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return null
  const size = Math.max(Math.abs(min), Math.abs(max))
  if (size === 0 || max - min > size * 1e-9) return null
  const mid = (min + max) / 2
  return { min: mid - size * 0.05, max: mid + size * 0.05 }
}

/**
 * The x axis's ticks without a last one crowding its neighbour: with the axis ending at the data
 * (bounds 'data') Chart.js adds the data's last x as a tick however near the round tick before it
 * ("100" then "106" read "100106"); that end tick is dropped when its gap is under 60% of the one
 * before. Ticks in x order.
 */
export function trimEndTick<T extends { value: number }>(ticks: T[]): T[] {
  if (ticks.length < 3) return ticks
  const [a, b, c] = ticks.slice(-3)
  return c.value - b.value < 0.6 * (b.value - a.value) ? ticks.slice(0, -1) : ticks
}

/**
 * Ticks thinned so that no two labels sit nearer than `minGap` pixels: the first kept, then each
 * one at least minGap from the last kept. Chart.js's own skipping counts ticks, as if evenly
 * spaced, which a log axis's are not ("9.00" over "8.80" over "8.50").
 */
export function spaceTicks<T extends { value: number }>(ticks: T[], pixelOf: (value: number) => number, minGap: number): T[] {
  const kept: T[] = []
  for (const t of ticks) if (!kept.length || Math.abs(pixelOf(t.value) - pixelOf(kept[kept.length - 1].value)) >= minGap) kept.push(t)
  return kept
}

/**
 * The x scale's options: the axis starts at 0 (an empty chart reads 0 to 10, not 0 0 0 1 1 1),
 * ticks are whole numbers, and Chart.js skips ticks whose labels would touch; the end tick at the
 * data's last x is trimmed by trimEndTick when it crowds the one before.
 */
export function xScaleOptions(lines: ChartLine[]): {
  min: number
  max?: number
  ticks: { precision: number; includeBounds: boolean; maxTicksLimit: number; autoSkip: boolean; autoSkipPadding: number; maxRotation: number }
} {
  const empty = !lines.some((l) => l.points.length > 0)
  return { min: 0, ...(empty ? { max: 10 } : {}), ticks: { precision: 0, includeBounds: false, maxTicksLimit: 6, autoSkip: true, autoSkipPadding: 12, maxRotation: 0 } }
}
