// The harness's aggregation functions, wired to the metric implementations, each with the standard
// error the evaluator attaches to it (stderr_for_metric).
import { mean } from '../metrics/aggregate'
import { f1Binary, macroF1ThreeClass, matthewsCorrcoef } from '../metrics/classification'
import { corpusBleu } from '../metrics/sacrebleu/bleu'
import { corpusChrf } from '../metrics/sacrebleu/chrf'
import { corpusTer } from '../metrics/sacrebleu/ter'
import { perplexity } from '../metrics/aggregate'
import type { Aggregation, MetricItem } from './types'

const nums = (items: MetricItem[]): number[] =>
  items.map((x) => {
    if (typeof x !== 'number') throw new Error(`expected a number metric item, got ${JSON.stringify(x)}`)
    return x
  })

const pairs = (items: MetricItem[]): [number, number][] =>
  items.map((x) => {
    if (typeof x === 'number' || x.length !== 2) throw new Error(`expected a (gold, pred) pair, got ${JSON.stringify(x)}`)
    return [Number(x[0]), Number(x[1])]
  })

const texts = (items: MetricItem[]): [string, string][] =>
  items.map((x) => {
    if (typeof x === 'number' || typeof x[0] !== 'string' || typeof x[1] !== 'string') throw new Error(`expected a (reference, hypothesis) pair, got ${JSON.stringify(x)}`)
    return [x[0], x[1]]
  })

export const MEAN: Aggregation = { aggregate: (items) => mean(nums(items)), stderr: 'mean', higherIsBetter: true }
export const PERPLEXITY: Aggregation = { aggregate: (items) => perplexity(nums(items)), stderr: 'bootstrap', higherIsBetter: false }
/** items (gold, pred): sklearn binary f1 */
export const F1: Aggregation = {
  aggregate: (items) => {
    const p = pairs(items)
    return f1Binary(
      p.map((x) => x[0]),
      p.map((x) => x[1])
    )
  },
  stderr: 'bootstrap',
  higherIsBetter: true
}
/** items (gold, pred): sklearn mcc */
export const MCC: Aggregation = {
  aggregate: (items) => {
    const p = pairs(items)
    return matthewsCorrcoef(
      p.map((x) => x[0]),
      p.map((x) => x[1])
    )
  },
  stderr: 'bootstrap',
  higherIsBetter: true
}
/** CB's items are (pred, gold): the mean of three one-vs-rest binary F1s, no stderr */
export const CB_F1: Aggregation = {
  aggregate: (items) => {
    const p = pairs(items)
    return macroF1ThreeClass(
      p.map((x) => x[1]),
      p.map((x) => x[0])
    )
  },
  stderr: 'none',
  higherIsBetter: true
}
/** items (reference, hypothesis), scored as a corpus */
export const BLEU: Aggregation = {
  aggregate: (items) => {
    const t = texts(items)
    return corpusBleu(
      t.map((x) => x[1]),
      [t.map((x) => x[0])]
    ).score
  },
  stderr: 'bootstrap',
  higherIsBetter: true
}
export const CHRF: Aggregation = {
  aggregate: (items) => {
    const t = texts(items)
    return corpusChrf(
      t.map((x) => x[1]),
      [t.map((x) => x[0])]
    )
  },
  stderr: 'bootstrap',
  higherIsBetter: true
}
export const TER: Aggregation = {
  aggregate: (items) => {
    const t = texts(items)
    return corpusTer(
      t.map((x) => x[1]),
      [t.map((x) => x[0])]
    )
  },
  stderr: 'bootstrap',
  higherIsBetter: false
}
