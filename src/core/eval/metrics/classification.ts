// F1 and Matthews correlation exactly as scikit-learn computes them (the harness calls
// sklearn.metrics.f1_score(golds, preds) and matthews_corrcoef(golds, preds)). Undefined cases
// follow sklearn's zero_division default: 0.0 (sklearn also warns).

export type Label = number | boolean

const asInt = (x: Label): number => (typeof x === 'boolean' ? (x ? 1 : 0) : x)

/** sklearn.metrics.f1_score(y_true, y_pred) with average='binary', pos_label=1. */
export function f1Binary(golds: readonly Label[], preds: readonly Label[]): number {
  checkLengths(golds, preds)
  const labels = new Set([...golds, ...preds].map(asInt))
  for (const l of labels) if (l !== 0 && l !== 1) throw new Error(`binary f1 needs labels 0/1, got ${l}`)
  let tp = 0
  let fp = 0
  let fn = 0
  for (let i = 0; i < golds.length; i++) {
    const g = asInt(golds[i])
    const p = asInt(preds[i])
    if (g === 1 && p === 1) tp++
    else if (g === 0 && p === 1) fp++
    else if (g === 1 && p === 0) fn++
  }
  // sklearn's own arithmetic (precision, recall, then (1+b^2)PR/(b^2 P + R)), so values agree
  // to the last bit rather than only to rounding.
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp)
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn)
  const denom = precision + recall
  return denom === 0 ? 0 : (2 * precision * recall) / denom
}

/** The harness's CB f1: the mean of the three one-vs-rest binary F1s (classes 0, 1, 2). */
export function macroF1ThreeClass(golds: readonly number[], preds: readonly number[]): number {
  checkLengths(golds, preds)
  let sum = 0
  for (const c of [0, 1, 2])
    sum += f1Binary(
      golds.map((g) => g === c),
      preds.map((p) => p === c)
    )
  return sum / 3
}

/** sklearn.metrics.matthews_corrcoef: the multiclass form over the confusion matrix. */
export function matthewsCorrcoef(golds: readonly Label[], preds: readonly Label[]): number {
  checkLengths(golds, preds)
  const classes = [...new Set([...golds, ...preds].map(asInt))].sort((a, b) => a - b)
  const index = new Map(classes.map((c, i) => [c, i]))
  const k = classes.length
  const tSum = new Array<number>(k).fill(0)
  const pSum = new Array<number>(k).fill(0)
  let correct = 0
  for (let i = 0; i < golds.length; i++) {
    const g = index.get(asInt(golds[i]))!
    const p = index.get(asInt(preds[i]))!
    tSum[g]++
    pSum[p]++
    if (g === p) correct++
  }
  const n = golds.length
  const dot = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i], 0)
  const covYtYp = correct * n - dot(tSum, pSum)
  const covYpYp = n * n - dot(pSum, pSum)
  const covYtYt = n * n - dot(tSum, tSum)
  if (covYpYp * covYtYt === 0) return 0
  return covYtYp / Math.sqrt(covYtYt * covYpYp)
}

function checkLengths(a: readonly unknown[], b: readonly unknown[]): void {
  if (a.length !== b.length) throw new Error(`golds (${a.length}) and predictions (${b.length}) differ in length`)
}
