// DROP's exact match and F1 as the harness's drop.py (VERSION 1), itself the official AllenNLP
// drop_eval: per-token normalisation (lower case, punctuation removed unless the token is a number,
// numbers canonicalised through float, articles and extra whitespace removed), answers as bags of
// tokens aligned one-to-one by maximum F1 with a number-match gate, F1 rounded to 2 places, and
// the best score over the gold answer sets (each a tuple of spans).
import { maxWeightAssignment } from './assignment'
import { PUNCTUATION, isPyFloat, pyFloatRepr, pyRound2, pySplit, removeArticles } from './pystr'

function normalizeToken(token: string): string {
  const lower = token.toLowerCase()
  const noPunc = isPyFloat(lower) ? lower : [...lower].filter((ch) => !PUNCTUATION.has(ch)).join('')
  const fixed = isPyFloat(noPunc) ? pyFloatRepr(noPunc) : noPunc
  return pySplit(removeArticles(fixed)).join(' ')
}

export function normalizeDrop(answer: string): string {
  return answer
    .split(/ |-/)
    .map(normalizeToken)
    .filter((t) => t.trim().length > 0)
    .join(' ')
    .trim()
}

function answerToBags(spans: readonly string[]): { normalized: string[]; bags: Set<string>[] } {
  const normalized = spans.map(normalizeDrop)
  return { normalized, bags: normalized.map((s) => new Set(pySplit(s))) }
}

function bagF1(pred: Set<string>, gold: Set<string>): number {
  let intersection = 0
  for (const t of gold) if (pred.has(t)) intersection++
  const precision = pred.size === 0 ? 1 : intersection / pred.size
  const recall = gold.size === 0 ? 1 : intersection / gold.size
  return precision === 0 && recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
}

function numbersMatch(gold: Set<string>, pred: Set<string>): boolean {
  const goldNumbers = [...gold].filter(isPyFloat)
  if (goldNumbers.length === 0) return true
  return goldNumbers.some((g) => pred.has(g))
}

function alignBags(pred: Set<string>[], gold: Set<string>[]): number[] {
  const scores = gold.map((g) => pred.map((p) => (numbersMatch(g, p) ? bagF1(p, g) : 0)))
  const assignment = maxWeightAssignment(scores)
  const best = new Array<number>(Math.max(gold.length, pred.length)).fill(0)
  assignment.forEach((col, row) => {
    if (col >= 0) best[row] = Math.max(best[row], scores[row][col])
  })
  return best
}

/** get_metrics(predicted, gold): both lists of spans. */
export function dropMetrics(predicted: readonly string[], gold: readonly string[]): { em: number; f1: number } {
  const p = answerToBags(predicted)
  const g = answerToBags(gold)
  const sameSet = new Set(p.normalized).size === new Set(g.normalized).size && [...new Set(p.normalized)].every((s) => g.normalized.includes(s))
  const em = sameSet && p.normalized.length === g.normalized.length ? 1 : 0
  const perBag = alignBags(p.bags, g.bags)
  const f1 = pyRound2(perBag.reduce((a, b) => a + b, 0) / perBag.length)
  return { em, f1 }
}

/** process_results: the best em and f1 over gold answer sets whose first span is not blank. */
export function dropScore(predictions: readonly string[], goldSets: readonly (readonly string[])[]): { em: number; f1: number } {
  let em = 0
  let f1 = 0
  for (const gold of goldSets) {
    const m = dropMetrics(predictions, gold)
    if (gold[0].trim()) {
      em = Math.max(em, m.em)
      f1 = Math.max(f1, m.f1)
    }
  }
  return { em, f1 }
}
