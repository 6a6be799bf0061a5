// Per-device figures of a data-parallel run (issue 14): each rank's pid, host memory now and at
// peak, its own step time and, on CUDA, its GPU's memory. Both engines hand rank 0 a `devices`
// list per step; here it becomes metrics named `<figure>@<rank>` (the metrics table holds one row
// per name and step, so each rank's figure is a series like any other), and back: the rows the
// run page's panel shows, the list `gptw train --json` prints and the spread its progress line
// shows. Pure, so tested alone.
import { decimate } from './charts/series'
import type { SeriesColumns } from './run-series'
import type { ChartLine } from './throughput-figures'

/** The figures a rank reports, in the order the engines send them. */
export const DEVICE_FIGURES = ['pid', 'rssMb', 'peakRssMb', 'stepSeconds', 'memoryAllocatedBytes', 'memoryBytes', 'memoryReservedBytes', 'optimizerStateBytes'] as const
export type DeviceFigure = (typeof DEVICE_FIGURES)[number]

/**
 * One rank's figures for a step. stepSeconds: on the PyTorch engine the rank's own wall time of
 * the step; on the embedded engine its time outside the gradient exchange (where every rank waits
 * for the slowest), so a slow worker shows. GPU memory (PyTorch on CUDA): allocated now, peak
 * allocated and peak reserved, in bytes as the step line's memoryBytes / memoryReservedBytes.
 * optimizerStateBytes (PyTorch engine): the AdamW state the rank holds, which sharding splits.
 */
export type DeviceFigures = { rank: number } & Partial<Record<DeviceFigure, number>>

/** The `devices` list of an engine's step line; entries without a rank are left out, as are figures that are not finite numbers. */
export function parseDevices(raw: unknown): DeviceFigures[] {
  if (!Array.isArray(raw)) return []
  return raw.flatMap((r: unknown) => {
    if (typeof r !== 'object' || r === null) return []
    const rec = r as Record<string, unknown>
    if (typeof rec.rank !== 'number' || !Number.isInteger(rec.rank) || rec.rank < 0) return []
    const out: DeviceFigures = { rank: rec.rank }
    for (const k of DEVICE_FIGURES) {
      const v = rec[k]
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v
    }
    return [out]
  })
}

const NAME = /^([A-Za-z]+)@(\d+)$/

/** A per-device metric name as the API's series filter takes it: a known figure, @, a rank (rssMb@1). */
export const DEVICE_METRIC_NAME = new RegExp(`^(${DEVICE_FIGURES.join('|')})@(0|[1-9]\\d{0,5})$`)

/** A figure's metric name for a rank: rssMb@1. */
export const deviceMetricName = (figure: DeviceFigure, rank: number): string => `${figure}@${rank}`

/** The metrics a step stores for its devices. */
export function deviceMetrics(devices: readonly DeviceFigures[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const d of devices) for (const k of DEVICE_FIGURES) if (d[k] !== undefined && Number.isFinite(d[k])) out[deviceMetricName(k, d.rank)] = d[k]!
  return out
}

/** A step's metric values split into the run's own figures and the per-device list (by rank), as `gptw train --json` prints them. */
export function splitDeviceMetrics(values: Record<string, number>): { values: Record<string, number>; devices: DeviceFigures[] } {
  const own: Record<string, number> = {}
  const byRank = new Map<number, DeviceFigures>()
  for (const [name, v] of Object.entries(values)) {
    const m = NAME.exec(name)
    if (!m || !(DEVICE_FIGURES as readonly string[]).includes(m[1])) {
      own[name] = v
      continue
    }
    const rank = Number(m[2])
    const d = byRank.get(rank) ?? { rank }
    d[m[1] as DeviceFigure] = v
    byRank.set(rank, d)
  }
  return { values: own, devices: [...byRank.values()].sort((a, b) => a.rank - b.rank) }
}

const range = (vs: number[], digits = 0): string => {
  const lo = Math.min(...vs)
  const hi = Math.max(...vs)
  return lo.toFixed(digits) === hi.toFixed(digits) ? lo.toFixed(digits) : `${lo.toFixed(digits)}-${hi.toFixed(digits)}`
}

/** "mem 410-432 MB, gpu 5120-5133 MB, step 250-268 ms over 2 ranks": the spread of a step's devices, for progress lines; null for fewer than two. */
export function deviceSpread(devices: readonly DeviceFigures[]): string | null {
  if (devices.length < 2) return null
  const pick = (k: DeviceFigure, scale = 1): number[] => devices.flatMap((d) => (d[k] === undefined ? [] : [d[k]! * scale]))
  const parts: string[] = []
  const rss = pick('rssMb')
  if (rss.length) parts.push(`mem ${range(rss)} MB`)
  const gpu = pick('memoryBytes', 1 / 2 ** 20)
  if (gpu.length) parts.push(`gpu ${range(gpu)} MB`)
  const step = pick('stepSeconds', 1000)
  if (step.length) parts.push(`step ${range(step)} ms`)
  return parts.length ? `${parts.join(', ')} over ${devices.length} ranks` : null
}

const SPREAD_PART = '(?:mem|gpu) \\d+(?:-\\d+)? MB|step \\d+(?:-\\d+)? ms'
const ENDS_WITH_SPREAD = new RegExp(`^(.*) \\| ((?:${SPREAD_PART})(?:, (?:${SPREAD_PART}))* over \\d+ ranks)$`, 's')

/** A progress line that ends with deviceSpread's text (` | mem 410-432 MB, ... over 2 ranks`) split into the line before it and the spread, for the Jobs list to show on a line of its own. */
export function splitSpread(line: string): { text: string; spread: string | null } {
  const m = ENDS_WITH_SPREAD.exec(line)
  return m ? { text: m[1], spread: m[2] } : { text: line, spread: null }
}

/** One row of the panel's per-device table: the latest figures (as the panel's own step time and RSS) and the highest peaks. */
export interface DeviceRow {
  rank: number
  pid: number | null
  rssMb: number | null
  /** The highest peak RSS the rank reported. */
  peakRssMb: number | null
  /** The latest step's, in ms. */
  stepMs: number | null
  gpuAllocatedMb: number | null
  gpuPeakMb: number | null
  gpuReservedMb: number | null
  /** The optimizer state the rank holds (its share under sharding: optimizer). */
  optimizerStateMb: number | null
}

type Series = Record<string, SeriesColumns>

const lastOf = (s: SeriesColumns | undefined): number | null => (s?.value.length ? s.value[s.value.length - 1] : null)
const maxOf = (s: SeriesColumns | undefined): number | null => (s?.value.length ? s.value.reduce((m, v) => (v > m ? v : m), -Infinity) : null)
/** The ranks that reported at the run's latest per-device step (a run resumed on fewer devices shows those), one row each. */
export function deviceRows(series: Series | undefined): DeviceRow[] {
  if (!series) return []
  const ranks = new Map<number, number>()
  for (const [name, s] of Object.entries(series)) {
    const m = NAME.exec(name)
    if (m && (DEVICE_FIGURES as readonly string[]).includes(m[1]) && s.step.length) ranks.set(Number(m[2]), Math.max(ranks.get(Number(m[2])) ?? 0, s.step[s.step.length - 1]))
  }
  const latest = Math.max(0, ...ranks.values())
  const mb = (v: number | null): number | null => (v === null ? null : v / 2 ** 20)
  return [...ranks]
    .filter(([, step]) => step === latest)
    .map(([rank]) => rank)
    .sort((a, b) => a - b)
    .map((rank) => {
      const s = (k: DeviceFigure): SeriesColumns | undefined => series[deviceMetricName(k, rank)]
      const step = lastOf(s('stepSeconds'))
      return {
        rank,
        pid: lastOf(s('pid')),
        rssMb: lastOf(s('rssMb')),
        peakRssMb: maxOf(s('peakRssMb')),
        stepMs: step === null ? null : step * 1000,
        gpuAllocatedMb: mb(lastOf(s('memoryAllocatedBytes'))),
        gpuPeakMb: mb(maxOf(s('memoryBytes'))),
        gpuReservedMb: mb(maxOf(s('memoryReservedBytes'))),
        optimizerStateMb: mb(lastOf(s('optimizerStateBytes')))
      }
    })
}

const RANK_COLORS = [
  { color: '#2f6fd0', name: 'blue' },
  { color: '#c0392b', name: 'red' },
  { color: '#3a9a5b', name: 'green' },
  { color: '#d0802f', name: 'orange' },
  { color: '#a04ac0', name: 'purple' },
  { color: '#17a2b8', name: 'teal' },
  { color: '#7f8c8d', name: 'grey' },
  { color: '#e84393', name: 'pink' }
]

/** The panel's per-device charts over steps: each rank's RSS (MB) and step time (ms), one line per rank; none for a single device. */
export function deviceCharts(series: Series | undefined, buckets: number): { key: string; title: string; lines: ChartLine[] }[] {
  const rows = deviceRows(series)
  if (!series || rows.length < 2) return []
  const lines = (figure: DeviceFigure, scale: number): ChartLine[] =>
    rows.flatMap(({ rank }) => {
      const s = series[deviceMetricName(figure, rank)]
      if (!s?.step.length) return []
      return [{ label: `rank ${rank}`, color: RANK_COLORS[rank % RANK_COLORS.length].color, points: decimate(s.step, scale === 1 ? s.value : s.value.map((v) => v * scale), buckets) }]
    })
  // The charts draw no legend: the title says which colour is which rank (colours repeat past eight ranks).
  const key = rows
    .slice(0, RANK_COLORS.length)
    .map(({ rank }) => `${RANK_COLORS[rank % RANK_COLORS.length].name}: rank ${rank}`)
    .join(', ')
  return [
    { key: 'device-memory', title: `RSS per device (MB; ${key})`, lines: lines('rssMb', 1) },
    { key: 'device-step', title: `Step time per device (ms; ${key})`, lines: lines('stepSeconds', 1000) }
  ].filter((c) => c.lines.length)
}
