// chrF as sacrebleu 1.5.0's corpus_chrf computes it: character n-grams of order 1..6 with all
// whitespace removed (by default), statistics summed over the corpus, precision and recall
// averaged over the orders that have both hypothesis and reference n-grams ("effective order"),
// then F-beta with beta = 2. Score on a 0..1 scale, as sacrebleu 1.x reported chrF.

export interface ChrfOptions {
  order?: number
  beta?: number
  removeWhitespace?: boolean
}

function charNgrams(s: string, n: number): Map<string, number> {
  const chars = [...s]
  const out = new Map<string, number>()
  for (let i = 0; i + n <= chars.length; i++) {
    const g = chars.slice(i, i + n).join('')
    out.set(g, (out.get(g) ?? 0) + 1)
  }
  return out
}

export function chrfStatistics(hypothesis: string, reference: string, order = 6, removeWhitespace = true): number[] {
  const prep = (s: string): string => (removeWhitespace ? s.replace(/\s+/gu, '').trim() : s)
  const hyp = prep(hypothesis)
  const ref = prep(reference)
  const stats = new Array<number>(order * 3).fill(0)
  for (let i = 0; i < order; i++) {
    const h = charNgrams(hyp, i + 1)
    const r = charNgrams(ref, i + 1)
    let hTotal = 0
    let rTotal = 0
    let common = 0
    for (const c of h.values()) hTotal += c
    for (const c of r.values()) rTotal += c
    for (const [g, c] of h) common += Math.min(c, r.get(g) ?? 0)
    stats[3 * i] = hTotal
    stats[3 * i + 1] = rTotal
    stats[3 * i + 2] = common
  }
  return stats
}

export function computeChrf(stats: readonly number[], order = 6, beta = 2): number {
  let avgPrecision = 0
  let avgRecall = 0
  let effectiveOrder = 0
  for (let i = 0; i < order; i++) {
    const hyp = stats[3 * i]
    const ref = stats[3 * i + 1]
    const common = stats[3 * i + 2]
    if (hyp > 0 && ref > 0) {
      avgPrecision += common / hyp
      avgRecall += common / ref
      effectiveOrder++
    }
  }
  if (effectiveOrder === 0) return 0
  avgPrecision /= effectiveOrder
  avgRecall /= effectiveOrder
  if (avgPrecision + avgRecall === 0) return 0
  const b2 = beta ** 2
  return ((1 + b2) * (avgPrecision * avgRecall)) / (b2 * avgPrecision + avgRecall)
}

/** corpus_chrf(hypotheses, [references]): one reference stream (sacrebleu 1.5 supports one). */
export function corpusChrf(hypotheses: readonly string[], refStreams: readonly (readonly string[])[], options: ChrfOptions = {}): number {
  const order = options.order ?? 6
  const refs = refStreams[0]
  if (!refs || refs.length !== hypotheses.length) throw new Error(`chrF: ${hypotheses.length} hypotheses but ${refs?.length ?? 0} references`)
  const total = new Array<number>(order * 3).fill(0)
  hypotheses.forEach((h, i) => chrfStatistics(h, refs[i], order, options.removeWhitespace ?? true).forEach((v, j) => (total[j] += v)))
  return computeChrf(total, order, options.beta ?? 2)
}
