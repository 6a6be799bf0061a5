// Turns a run's metric rows into columns per metric name, optionally only some names and only
// the last N points of each (the Train view's throughput estimate needs just a tail).
import type { MetricPoint } from '../../shared/runs'
import type { RunSeries, SeriesColumns } from '../../shared/run-series'

export function toRunSeries(runId: number, points: MetricPoint[], names?: string[], tail?: number): RunSeries {
  const wanted = names?.length ? new Set(names) : null
  const series: Record<string, SeriesColumns> = {}
  for (const p of points) {
    if (wanted && !wanted.has(p.name)) continue
    const s = (series[p.name] ??= { step: [], value: [] })
    s.step.push(p.step)
    s.value.push(p.value)
  }
  if (tail) {
    for (const s of Object.values(series)) {
      if (s.step.length <= tail) continue
      s.step = s.step.slice(-tail)
      s.value = s.value.slice(-tail)
    }
  }
  return { runId, series }
}
