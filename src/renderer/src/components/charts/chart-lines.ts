// Builds the lines a run chart draws from runs' series: x by step, tokens or training time,
// smoothing, and decimation to about one bucket per horizontal pixel.
import { type XY, decimate, mapSteps, smooth } from '../../../../shared/charts/series'
import type { Series, XAxis } from '../../stores/runs'
import type { ChartLine } from './MetricChart.vue'

export const RUN_COLORS = ['#2f6fdf', '#d9480f', '#2b8a3e', '#9c36b5', '#e67700', '#0b7285', '#c2255c', '#5c940d']

export interface ChartRun {
  id: number
  label: string
  color: string
  series: Series | undefined
  /** Changes whenever the run's series change. */
  version: number
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

/** One run's lines for one metric; a smoothed metric gets a faint raw line under the smoothed one. */
export function runLines(run: ChartRun, metric: string, o: LineOptions, style: LineStyle): ChartLine[] {
  const s = run.series?.[metric]
  if (!s || !s.step.length) return []
  const xs = xsFor(run.series!, s.step, o.xAxis)
  const label = `${run.label}${style.suffix ?? ''}`
  if (style.smoothed && o.smoothing > 0) {
    return [
      { label: `${label} (raw)`, color: run.color, points: decimate(xs, s.value, o.buckets), faint: true },
      { label, color: run.color, points: decimate(xs, smooth(s.value, o.smoothing), o.buckets), dashed: style.dashed }
    ]
  }
  return [{ label, color: run.color, points: decimate(xs, s.value, o.buckets), dashed: style.dashed, dots: style.dots && s.step.length <= 60 }]
}

/**
 * Remembers each run's lines per metric until its series or the options change, so a new point
 * in one run, or a run added to the comparison, recomputes only what changed.
 */
export class LineCache {
  private readonly lines = new Map<string, ChartLine[]>()
  private readonly used = new Set<string>()

  get(run: ChartRun, metric: string, o: LineOptions, style: LineStyle): ChartLine[] {
    const key = [run.id, run.version, run.label, run.color, metric, o.xAxis, style.smoothed ? o.smoothing : 0, o.buckets].join('|')
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
