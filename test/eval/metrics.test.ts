// Metrics against references: scikit-learn (f1, mcc, macro f1) and Python's random / the harness's
// bootstrap from tools/eval/sklearn_reference.py (Debian python3-sklearn), SQuAD / DROP scoring on
// hand-worked cases from their definitions.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PyRandom } from '../../src/core/eval/pyrandom'
import { f1Binary, macroF1ThreeClass, matthewsCorrcoef } from '../../src/core/eval/metrics/classification'
import { bootstrapStderr } from '../../src/core/eval/metrics/bootstrap'
import { mean, meanStderr, perplexity } from '../../src/core/eval/metrics/aggregate'
import { argmax, multipleChoiceScores } from '../../src/core/eval/metrics/choice'
import { computeExact, computeF1, maxOverGolds } from '../../src/core/eval/metrics/squad'
import { dropMetrics, dropScore, normalizeDrop } from '../../src/core/eval/metrics/drop'
import { isPyFloat, pyFloatRepr, pyRound2 } from '../../src/core/eval/metrics/pystr'

interface Outcome {
  value?: number
  error?: string
}
interface Reference {
  generated_by: string
  binary: { name: string; golds: number[]; preds: number[]; f1: Outcome; mcc: Outcome }[]
  three_class: { name: string; golds: number[]; preds: number[]; macro_f1_one_vs_rest: number; mcc: number }[]
  python_random: Record<string, number[]>
  bootstrap: { items: [number, number][]; iters: number; f1_stderr: number; mcc_stderr: number; lls: number[]; ppl_iters: number; ppl_stderr: number }
}
const ref: Reference = JSON.parse(fs.readFileSync(path.join(__dirname, 'goldens', 'sklearn-reference.json'), 'utf8'))

describe('scikit-learn references', () => {
  it('names the script that made them', () => {
    expect(ref.generated_by).toBe('tools/eval/sklearn_reference.py')
    expect(fs.existsSync(path.join(__dirname, '..', '..', ref.generated_by))).toBe(true)
  })

  for (const c of ref.binary) {
    it(`binary f1 and mcc: ${c.name}`, () => {
      expect(c.f1.error).toBeUndefined()
      expect(f1Binary(c.golds, c.preds)).toBeCloseTo(c.f1.value!, 14)
      expect(matthewsCorrcoef(c.golds, c.preds)).toBeCloseTo(c.mcc.value!, 14)
    })
  }

  for (const c of ref.three_class) {
    it(`cb macro f1 and multiclass mcc: ${c.name}`, () => {
      expect(macroF1ThreeClass(c.golds, c.preds)).toBeCloseTo(c.macro_f1_one_vs_rest, 14)
      expect(matthewsCorrcoef(c.golds, c.preds)).toBeCloseTo(c.mcc, 14)
    })
  }

  it('accepts booleans as the harness passes them (pred = ll_yes > ll_no)', () => {
    const c = ref.binary[0]
    expect(
      f1Binary(
        c.golds,
        c.preds.map((p) => p === 1)
      )
    ).toBeCloseTo(c.f1.value!, 14)
  })

  it('rejects mismatched lengths and non-binary labels', () => {
    expect(() => f1Binary([0, 1], [1])).toThrow(/differ in length/)
    expect(() => f1Binary([0, 2], [1, 0])).toThrow(/labels 0\/1/)
  })
})

describe("Python's random, bit for bit", () => {
  const r = ref.python_random
  it('Random(42).shuffle then sample, as the evaluator orders and samples documents', () => {
    const rnd = new PyRandom(42)
    const docs = Array.from({ length: 30 }, (_, i) => i)
    rnd.shuffle(docs)
    expect(docs).toEqual(r.shuffle_42_range30)
    expect(
      rnd.sample(
        Array.from({ length: 30 }, (_, i) => i),
        3
      )
    ).toEqual(r.then_sample_range30_k3)
    expect(
      rnd.sample(
        Array.from({ length: 100 }, (_, i) => i),
        6
      )
    ).toEqual(r.then_sample_range100_k6)
  })
  it('random(), choices() and seeds above 2^32', () => {
    const a = new PyRandom(0)
    expect(r.random_0_first5.map(() => a.random())).toEqual(r.random_0_first5)
    expect(
      new PyRandom(7).choices(
        Array.from({ length: 10 }, (_, i) => i),
        12
      )
    ).toEqual(r.choices_7_range10_k12)
    const b = new PyRandom(2 ** 40 + 5)
    expect(r.random_2pow40plus5_first3.map(() => b.random())).toEqual(r.random_2pow40plus5_first3)
  })
})

describe('bootstrap standard errors as the harness computes them', () => {
  const b = ref.bootstrap
  const golds = (items: [number, number][]) => items.map((x) => x[0])
  const preds = (items: [number, number][]) => items.map((x) => x[1])
  it('f1 and mcc', () => {
    expect(bootstrapStderr((it) => f1Binary(golds(it), preds(it)), b.items, b.iters)).toBeCloseTo(b.f1_stderr, 12)
    expect(bootstrapStderr((it) => matthewsCorrcoef(golds(it), preds(it)), b.items, b.iters)).toBeCloseTo(b.mcc_stderr, 12)
  })
  it('perplexity', () => {
    expect(bootstrapStderr(perplexity, b.lls, b.ppl_iters)).toBeCloseTo(b.ppl_stderr, 10)
  })
})

describe('plain aggregations', () => {
  it('mean, its stderr (sample std / sqrt n) and perplexity', () => {
    expect(mean([1, 0, 1, 1])).toBe(0.75)
    // sample std of [1,0,1,1] = 0.5, / sqrt(4)
    expect(meanStderr([1, 0, 1, 1])).toBeCloseTo(0.25, 15)
    expect(perplexity([-1, -3])).toBeCloseTo(Math.exp(2), 12)
    expect(() => mean([])).toThrow(/no documents/)
  })
  it('acc and acc_norm: first maximum wins, length in characters without the leading space', () => {
    expect(argmax([-1, -0.5, -0.5])).toBe(1)
    // " a" scores -2, " bbbbbb" scores -3: acc picks 0, acc_norm picks 1 (-2/1 < -3/6)
    expect(multipleChoiceScores([-2, -3], ['a', 'bbbbbb'], 1)).toEqual({ acc: 0, acc_norm: 1 })
    // characters, not UTF-16 units: '😀😀' has length 2 in Python
    expect(multipleChoiceScores([-4, -4.1], ['😀😀', 'abc'], 1).acc_norm).toBe(1)
  })
})

describe('SQuAD em / f1 (ReCoRD)', () => {
  it('normalises case, punctuation, articles and whitespace', () => {
    expect(computeExact('The  Eiffel Tower!', 'eiffel tower')).toBe(1)
    expect(computeF1('the cat sat', 'a cat sat down')).toBeCloseTo((2 * (2 / 3) * 1) / (2 / 3 + 1), 15)
    expect(computeF1('', '')).toBe(1)
    expect(computeF1('Paris', '')).toBe(0)
    expect(computeF1('a', 'the')).toBe(1) // both normalise to no tokens
    expect(maxOverGolds(computeF1, 'Barack Obama', ['Obama', 'Michelle Obama'])).toBeCloseTo(2 / 3, 15)
  })
})

describe('DROP em / f1', () => {
  it('normalises numbers through float and drops punctuation', () => {
    expect(normalizeDrop('The 3 dogs')).toBe('3.0 dogs')
    expect(normalizeDrop('1,000 yards')).toBe('1000.0 yards') // punctuation goes first, then the number is canonicalised
    expect(normalizeDrop('well-known')).toBe('well known')
    expect(normalizeDrop('$5')).toBe('5.0')
  })
  it('matches numbers before crediting overlap and rounds F1 to 2 places', () => {
    expect(dropMetrics(['4 touchdowns'], ['3 touchdowns'])).toEqual({ em: 0, f1: 0 })
    expect(dropMetrics(['3 touchdowns'], ['3'])).toEqual({ em: 0, f1: 0.67 })
    expect(dropMetrics(['Tom Brady'], ['tom brady'])).toEqual({ em: 1, f1: 1 })
  })
  it('aligns multi-span answers one to one and averages over the larger side', () => {
    // gold spans {A, B}, predicted one span "A": f1 = (1 + 0) / 2
    expect(dropMetrics(['Jets'], ['Jets', 'Giants'])).toEqual({ em: 0, f1: 0.5 })
  })
  it('takes the best gold answer set and ignores blank ones', () => {
    expect(dropScore(['Jets'], [['Giants'], ['Jets']])).toEqual({ em: 1, f1: 1 })
    expect(dropScore([''], [[''], ['x']])).toEqual({ em: 0, f1: 0 })
  })
  it("Python's float parsing, repr and round", () => {
    expect(['1', '1.5', '.5', '5.', '1e3', '1_000', 'inf', 'NaN', ' 2 '].every(isPyFloat)).toBe(true)
    expect(['1,000', '1e', '_1', 'e3', '--1', ''].some(isPyFloat)).toBe(false)
    expect(['5', '1e3', '1e16', '0.0001', '0.00001', '123456789012345678'].map(pyFloatRepr)).toEqual(['5.0', '1000.0', '1e+16', '0.0001', '1e-05', '1.2345678901234568e+17'])
    expect([0.125, 0.375, 0.625, 0.875, 0.333333, 0.675].map(pyRound2)).toEqual([0.12, 0.38, 0.62, 0.88, 0.33, 0.68])
  })
})
