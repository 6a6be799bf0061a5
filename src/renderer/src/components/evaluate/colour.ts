// The matrix's colour scale: red (worse) to green (better). Metrics with a fixed range are
// placed on it (acc, f1, em, chrF in [0, 1], mcc in [-1, 1], BLEU in [0, 100], TER lower is
// better); perplexity has none, so it is placed between the best and worst in its row, on a
// log scale. No colour where there is nothing to compare against.

/** 0 = worst, 1 = best, or null. */
export function goodness(metric: string, value: number, higherIsBetter: boolean, row: readonly number[]): number | null {
  if (!Number.isFinite(value)) return null
  let t: number
  if (['acc', 'acc_norm', 'f1', 'em', 'chrf'].includes(metric)) t = value
  else if (metric === 'mcc') t = (value + 1) / 2
  else if (metric === 'bleu') t = value / 100
  else if (metric === 'ter') t = value
  else {
    const finite = row.filter((v) => Number.isFinite(v) && v > 0)
    const lo = Math.min(...finite)
    const hi = Math.max(...finite)
    if (finite.length < 2 || hi === lo || value <= 0) return null
    t = (Math.log(value) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))
  }
  t = Math.min(1, Math.max(0, t))
  return higherIsBetter ? t : 1 - t
}

export function cellBackground(g: number | null): string | undefined {
  return g === null ? undefined : `hsl(${Math.round(g * 120)}, 65%, 86%)`
}
