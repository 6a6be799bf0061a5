// SQuAD exact match and token F1 as transformers' squad_metrics (compute_exact / compute_f1), which
// the harness's ReCoRD takes the maximum of over the gold answers.
import { PUNCTUATION, pySplit, removeArticles } from './pystr'

export function normalizeAnswer(s: string): string {
  const lower = s.toLowerCase()
  const noPunc = [...lower].filter((ch) => !PUNCTUATION.has(ch)).join('')
  return pySplit(removeArticles(noPunc)).join(' ')
}

const tokens = (s: string): string[] => (s ? pySplit(normalizeAnswer(s)) : [])

export function computeExact(gold: string, pred: string): number {
  return normalizeAnswer(gold) === normalizeAnswer(pred) ? 1 : 0
}

export function computeF1(gold: string, pred: string): number {
  const goldToks = tokens(gold)
  const predToks = tokens(pred)
  if (goldToks.length === 0 || predToks.length === 0) return goldToks.join(' ') === predToks.join(' ') && goldToks.length === predToks.length ? 1 : 0
  const counts = new Map<string, number>()
  for (const t of goldToks) counts.set(t, (counts.get(t) ?? 0) + 1)
  let same = 0
  for (const t of predToks) {
    const c = counts.get(t) ?? 0
    if (c > 0) {
      same++
      counts.set(t, c - 1)
    }
  }
  if (same === 0) return 0
  const precision = same / predToks.length
  const recall = same / goldToks.length
  return (2 * precision * recall) / (precision + recall)
}

export function maxOverGolds(metric: (gold: string, pred: string) => number, pred: string, golds: readonly string[]): number {
  return Math.max(...golds.map((g) => metric(g, pred)))
}
