// What the throughput & memory panel shows, from a run's metric series (the trainer stores them
// per step: tokensPerSec, tflops, mfu, peakTflops, fwdBwdMs, optimizerMs, dataMs, allReduceMs,
// rssMb, peakRssMb, etaSeconds; the PyTorch engine memoryBytes): the latest step's figures, a
// median over the last steps (one slow step is not the run's speed), the peak and how it was
// derived (the train job's "MFU against ..." log line), and the chart lines. Pure, so tested
// alone; drawn by src/renderer/src/components/runs/ThroughputPanel.vue.
import type { SeriesColumns } from './run-series'
import { type XY, decimate } from './charts/series'
import type { ModelConfig } from './config/model'
import { modelTflops } from './throughput'

/** A line as the panel's charts (MetricChart) draw it. */
export interface ChartLine {
  label: string
  color: string
  points: XY[]
}

type Series = Record<string, SeriesColumns>

/** The step split's parts, in the order the panel lists and stacks them. */
export const SPLIT_PARTS = [
  { key: 'fwdBwdMs', label: 'forward + backward', color: '#2f6fd0' },
  { key: 'optimizerMs', label: 'optimizer', color: '#d0802f' },
  { key: 'dataMs', label: 'data', color: '#3a9a5b' },
  { key: 'allReduceMs', label: 'all-reduce', color: '#a04ac0' }
] as const

export interface ThroughputFigures {
  step: number
  /** Medians over the last `window` steps. */
  tokensPerSec: number | null
  tflops: number | null
  /** Whether TFLOP/s was worked out here from tokens/s (the PyTorch engine reports none). */
  tflopsDerived: boolean
  /** 0..1. */
  mfu: number | null
  peakTflops: number | null
  /** The latest step's split (ms); null parts were not reported. */
  split: { key: string; label: string; color: string; ms: number }[]
  stepMs: number | null
  rssMb: number | null
  /** The highest peak RSS any step reported. */
  peakRssMb: number | null
  /** PyTorch engine: torch.cuda.max_memory_allocated of rank 0's GPU. */
  gpuAllocatedMb: number | null
  etaSeconds: number | null
}

const last = (s: SeriesColumns | undefined): number | null => (s?.value.length ? s.value[s.value.length - 1] : null)
const lastStep = (s: SeriesColumns | undefined): number => (s?.step.length ? s.step[s.step.length - 1] : 0)

function median(s: SeriesColumns | undefined, window: number): number | null {
  if (!s?.value.length) return null
  const tail = s.value.slice(-window).filter(Number.isFinite)
  if (!tail.length) return null
  const sorted = [...tail].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function max(s: SeriesColumns | undefined): number | null {
  if (!s?.value.length) return null
  let m = -Infinity
  for (const v of s.value) if (v > m) m = v
  return Number.isFinite(m) ? m : null
}

/** `model`: the run's shape, to work out TFLOP/s from tokens/s where the engine stored none. */
export function throughputFigures(series: Series | undefined, window = 10, model?: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>): ThroughputFigures | null {
  if (!series?.tokensPerSec?.step.length) return null
  const split = SPLIT_PARTS.flatMap((p) => {
    const ms = last(series[p.key])
    return ms === null || lastStep(series[p.key]) !== lastStep(series.tokensPerSec) ? [] : [{ ...p, ms }]
  })
  const gpu = max(series.memoryBytes)
  const tokensPerSec = median(series.tokensPerSec, window)
  const stored = median(series.tflops, window)
  const tflops = stored ?? (model && tokensPerSec !== null ? modelTflops(model, tokensPerSec) : null)
  return {
    step: lastStep(series.tokensPerSec),
    tokensPerSec,
    tflops,
    tflopsDerived: stored === null && tflops !== null,
    mfu: median(series.mfu, window),
    peakTflops: last(series.peakTflops),
    split,
    stepMs: split.length ? split.reduce((n, p) => n + p.ms, 0) : null,
    rssMb: last(series.rssMb),
    peakRssMb: max(series.peakRssMb),
    gpuAllocatedMb: gpu === null ? null : gpu / 2 ** 20,
    etaSeconds: last(series.etaSeconds)
  }
}

/** The peak's derivation from the train job's log ("MFU against <derivation>"), or what the log says instead. */
export function peakDerivation(lines: readonly { text: string }[]): string | null {
  for (const l of lines) {
    const m = /^MFU against (.+)$/.exec(l.text)
    if (m) return m[1]
    if (l.text.startsWith('MFU: ')) return l.text.slice('MFU: '.length)
  }
  return null
}

function line(series: Series, key: string, label: string, color: string, buckets: number, scale = 1): ChartLine | null {
  const s = series[key]
  if (!s?.step.length) return null
  const points: XY[] = decimate(s.step, scale === 1 ? s.value : s.value.map((v) => v * scale), buckets)
  return { label, color, points }
}

/** The panel's charts over steps: speed (tokens/s; TFLOP/s), MFU in %, the step split (ms) and memory (MB). */
export function throughputCharts(series: Series | undefined, buckets: number): { key: string; title: string; lines: ChartLine[] }[] {
  if (!series) return []
  const keep = (lines: (ChartLine | null)[]): ChartLine[] => lines.filter((l): l is ChartLine => l !== null)
  const charts = [
    { key: 'tokens', title: 'Tokens / s', lines: keep([line(series, 'tokensPerSec', 'tokens/s', '#2f6fd0', buckets)]) },
    // TFLOP/s is tokens/s times a constant: charted only where no peak gives an MFU.
    series.mfu?.step.length
      ? { key: 'mfu', title: 'MFU (% of peak)', lines: keep([line(series, 'mfu', 'MFU %', '#c0392b', buckets, 100)]) }
      : { key: 'tflops', title: 'Model TFLOP/s', lines: keep([line(series, 'tflops', 'TFLOP/s', '#c0392b', buckets)]) },
    { key: 'split', title: 'Step time split (ms; colours as above)', lines: keep(SPLIT_PARTS.map((p) => line(series, p.key, p.label, p.color, buckets))) },
    {
      key: 'memory',
      title: 'Memory (MB; blue: RSS now, red: peak RSS)',
      lines: keep([
        line(series, 'rssMb', 'RSS', '#2f6fd0', buckets),
        line(series, 'peakRssMb', 'peak RSS', '#c0392b', buckets),
        line(series, 'memoryBytes', 'GPU allocated (peak)', '#3a9a5b', buckets, 1 / 2 ** 20)
      ])
    }
  ]
  return charts.filter((c) => c.lines.length)
}
