// Pure helpers that turn metric series into what a chart draws: smoothing, x by step / tokens /
// time, and decimation so a 100k-point run draws only about as many points as the chart has pixels.

export interface XY {
  x: number
  y: number
}

/** TensorBoard's smoothing: an exponential moving average, debiased so the start is not pulled to 0. */
export function smooth(values: ArrayLike<number>, weight: number): Float64Array {
  const out = new Float64Array(values.length)
  if (weight <= 0) {
    out.set(values)
    return out
  }
  let last = 0
  let debias = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (!Number.isFinite(v)) {
      out[i] = v
      continue
    }
    last = last * weight + (1 - weight) * v
    debias = debias * weight + (1 - weight)
    out[i] = last / debias
  }
  return out
}

/**
 * Maps each step of `steps` to the value another series (e.g. tokens or elapsed seconds) had at
 * that step. Both are sorted by step; a step the other series lacks gets the nearest earlier value
 * (or the first one).
 */
export function mapSteps(steps: ArrayLike<number>, axisSteps: ArrayLike<number>, axisValues: ArrayLike<number>): Float64Array {
  const out = new Float64Array(steps.length)
  let j = 0
  for (let i = 0; i < steps.length; i++) {
    while (j + 1 < axisSteps.length && axisSteps[j + 1] <= steps[i]) j++
    out[i] = axisValues.length ? axisValues[j] : steps[i]
  }
  return out
}

/**
 * Min-max decimation: the x range is cut into `buckets` equal slices and each slice keeps its
 * first, lowest, highest and last point, in x order. Spikes survive (unlike plain subsampling), the
 * output has at most 4 points per bucket, and it is O(n). Inputs must be sorted by x.
 */
export function decimate(xs: ArrayLike<number>, ys: ArrayLike<number>, buckets: number): XY[] {
  const n = Math.min(xs.length, ys.length)
  const out: XY[] = []
  if (n <= buckets * 4 || buckets < 1) {
    for (let i = 0; i < n; i++) if (Number.isFinite(ys[i])) out.push({ x: xs[i], y: ys[i] })
    return out
  }
  const x0 = xs[0]
  const scale = buckets / (xs[n - 1] - x0 || 1)
  const bucketOf = (x: number): number => Math.min(buckets - 1, Math.floor((x - x0) * scale))
  let i = 0
  while (i < n) {
    const bucket = bucketOf(xs[i])
    let first = -1
    let last = -1
    let lo = -1
    let hi = -1
    for (; i < n && bucketOf(xs[i]) === bucket; i++) {
      if (!Number.isFinite(ys[i])) continue
      if (first < 0) first = i
      last = i
      if (lo < 0 || ys[i] < ys[lo]) lo = i
      if (hi < 0 || ys[i] > ys[hi]) hi = i
    }
    if (first < 0) continue
    for (const k of [...new Set([first, lo, hi, last])].sort((a, b) => a - b)) out.push({ x: xs[k], y: ys[k] })
  }
  return out
}

/** One line (or set of points, or markers) a run chart draws. */
export interface ChartLine {
  label: string
  color: string
  points: XY[]
  dashed?: boolean
  faint?: boolean
  dots?: boolean
  /** A line that a resume took off the run's line: drawn dotted and pale. */
  branch?: boolean
  /** 'y' (default): the metric's axis; 'y2': a second axis on the right; 'marker': x only, a vertical line over the whole height. */
  axis?: 'y' | 'y2' | 'marker'
  /** Points with no line between them. */
  pointsOnly?: boolean
  /** Hover text per point, one entry per line of text (in place of "label: value"). */
  tips?: string[][]
  /** Per point: clicking that point emits its key. */
  keys?: string[]
}
