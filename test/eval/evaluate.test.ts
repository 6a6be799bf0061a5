// Metrics on fixture predictions: each task's per-document scoring and aggregation given chosen
// model outputs, with the expected values worked out by hand from the harness's definitions.
// Then whole evaluations with a real (tiny) character-bigram model trained on Moby-Dick.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EvalResult } from '../../src/shared/eval'
import { buildRequests } from '../../src/core/eval/build'
import { EvalDataStore } from '../../src/core/eval/data/store'
import { evaluateTasks } from '../../src/core/eval/evaluate'
import { meanStderr } from '../../src/core/eval/metrics/aggregate'
import { corpusBleu } from '../../src/core/eval/metrics/sacrebleu/bleu'
import { runTask } from '../../src/core/eval/run'
import { getTask } from '../../src/core/eval/tasks/registry'
import { evalSplit, type Task } from '../../src/core/eval/tasks/types'
import { tempDir } from '../helpers'
import { CharBigramModel } from './bigram-model'
import { startFixtureServer, type FixtureServer } from './fixture-server'

let server: FixtureServer
let store: EvalDataStore
beforeAll(async () => {
  server = await startFixtureServer()
  store = new EvalDataStore(tempDir('gptw-eval-run-'), server.sources)
})
afterAll(() => server.close())

const L = (...lls: number[]): EvalResult[] => lls.map((logprob) => ({ logprob, isGreedy: false }))
const G = (...xs: [number, boolean][]): EvalResult[] => xs.map(([logprob, isGreedy]) => ({ logprob, isGreedy }))

/** Score the eval split's documents (in file order) with the given per-document results. */
async function score(name: string, perDoc: EvalResult[][]): Promise<Record<string, number>> {
  const task = getTask(name) as Task
  const docs = await task.loadDocs(evalSplit(task), store)
  expect(docs).toHaveLength(perDoc.length)
  const items = docs.map((d, i) => task.processResults(d, perDoc[i]))
  return Object.fromEntries(Object.entries(task.aggregation).map(([m, agg]) => [m, agg.aggregate(items.map((x) => x[m]))]))
}

describe('metrics on fixture predictions', () => {
  it('cola: mcc over (gold, ll(yes) > ll(no))', async () => {
    // golds [1, 0]; predictions [1, 1] -> one predicted class -> mcc 0; [1, 0] -> 1
    expect(await score('cola', [L(-1, -2), L(-1, -3)])).toEqual({ mcc: 0 })
    expect(await score('cola', [L(-1, -2), L(-3, -1)])).toEqual({ mcc: 1 })
  })
  it('mrpc: acc and binary f1', async () => {
    // golds [1, 0], predictions [1, 1]: tp 1, fp 1 -> P 1/2, R 1 -> f1 2/3
    const m = await score('mrpc', [L(-1, -2), L(-1, -2)])
    expect(m.acc).toBe(0.5)
    expect(m.f1).toBeCloseTo(2 / 3, 15)
  })
  it('cb: acc and the mean of three one-vs-rest F1s', async () => {
    // golds [1, 2, 0] (False, Neither, True), requests [True, False, Neither]; predictions [1, 0, 0]
    const m = await score('cb', [L(-3, -1, -2), L(-1, -2, -3), L(-1, -2, -3)])
    expect(m.acc).toBeCloseTo(2 / 3, 15)
    // class 0: tp 1 fp 1 -> 2/3; class 1: 1; class 2: 0
    expect(m.f1).toBeCloseTo(5 / 9, 15)
  })
  it('record: em and token f1 of the most likely entity (entities sorted, deduplicated)', async () => {
    // entities: Congress, Puerto Rico, Trump, US; gold Trump
    expect(await score('record', [L(-5, -4, -3, -1)])).toEqual({ f1: 0, em: 0 })
    expect(await score('record', [L(-5, -4, -1, -3)])).toEqual({ f1: 1, em: 1 })
  })
  it('mc_taco: exact match per question and the per-question F1 of "yes"', async () => {
    // q1 golds [1, 0] predicted [1, 0]; q2 golds [1, 0] predicted [1, 1]; requests [no, yes]
    const m = await score('mc_taco', [L(-2, -1), L(-1, -2), L(-2, -1), L(-2, -1)])
    expect(m.em).toBe(0.5)
    expect(m.f1).toBeCloseTo((1 + 2 / 3) / 2, 15)
  })
  it('lambada: perplexity of the last word and greedy accuracy', async () => {
    const m = await score('lambada', [G([-2, true]), G([-4, false])])
    expect(m.ppl).toBeCloseTo(Math.exp(3), 12)
    expect(m.acc).toBe(0.5)
  })
  it('hellaswag: acc and acc_norm can disagree (length in characters)', async () => {
    // gold 3 (36 chars) scores -12, choice 2 (26 chars) -10: acc picks 2, acc_norm picks 3
    expect(await score('hellaswag', [L(-20, -40, -10, -12)])).toEqual({ acc: 0, acc_norm: 1 })
  })
  it('webqs: correct when an alias (prefixes removed) is the greedy continuation', async () => {
    expect(await score('webqs', [G([-3, true])])).toEqual({ acc: 1 })
    expect(await score('webqs', [G([-3, false])])).toEqual({ acc: 0 })
  })
  it('drop: best em / f1 over the answer sets', async () => {
    const m = await score('drop', [[' JaMarcus Russell'], ['20 yards'], ['May 3, 1500']])
    // 1/1; em 0 f1 0.67 (number matches, one extra token); em 0 f1 1 (same bag, other order)
    expect(m.em).toBeCloseTo(1 / 3, 15)
    expect(m.f1).toBeCloseTo((1 + 0.67 + 1) / 3, 15)
  })
  it('math_algebra: answer between $...$ against the last \\boxed{} after normalisation', async () => {
    // documents sorted by file name: 10.json (x = 3) then 2.json (1/2)
    expect(await score('math_algebra', [[' $3$.'], [' \\frac12']])).toEqual({ acc: 1 })
    expect(await score('math_algebra', [[' $4$'], [' 0.5']])).toEqual({ acc: 0.5 })
  })
  it('wmt14-en-fr: corpus BLEU, chrF and TER of the generations', async () => {
    const task = getTask('wmt14-en-fr')
    const refs = (await task.loadDocs('test', store)).map((d) => task.docToTarget(d).slice(1))
    const same = await score(
      'wmt14-en-fr',
      refs.map((r) => [r])
    )
    expect(same.bleu).toBeCloseTo(100, 10)
    expect([same.chrf, same.ter]).toEqual([1, 0])
    const m = await score('wmt14-en-fr', [['Saut spectaculaire au-dessus de Bogota'], [refs[1]]])
    expect(m.bleu).toBeCloseTo(corpusBleu(['Saut spectaculaire au-dessus de Bogota', refs[1]], [refs]).score, 12)
    expect(m.ter).toBeGreaterThan(0)
  })
  it('blimp and arithmetic: pairwise and greedy accuracy', async () => {
    expect(await score('blimp_adjunct_island', [L(-10, -12), L(-15, -11)])).toEqual({ acc: 0.5 })
    expect(await score('arithmetic_2da', [G([-1, true]), G([-1, true])])).toEqual({ acc: 1 })
  })
})

describe('evaluation with a real character-bigram model', () => {
  const model = CharBigramModel.mobyDick()

  it('is a language model, not a stub: English scores above its reversal', () => {
    const s = 'the whale swam through the sea'
    expect(model.score('', s).logprob).toBeGreaterThan(model.score('', [...s].reverse().join('')).logprob)
  })

  it('runs multiple-choice, loglikelihood and generation tasks end to end', async () => {
    const out = await evaluateTasks(['copa', 'hellaswag', 'lambada', 'drop', 'wmt14-en-fr', 'blimp_adjunct_island'], model, store, { numFewshot: 0, bootstrapIters: 200 })
    expect(out.failures).toEqual([])
    for (const r of out.results) {
      for (const v of Object.values(r.metrics)) expect(Number.isFinite(v.value)).toBe(true)
    }
    // copa's acc recomputed from the model's own scores
    const copa = out.samples.copa
    const expected: number[] = copa.map((s) => {
      const [a, b] = s.requests.map((q) => (q.type === 'loglikelihood' ? model.score(q.context, q.continuation).logprob : NaN))
      const gold = (s.doc as { label: number }).label
      return (b > a ? 1 : 0) === gold ? 1 : 0
    })
    const copaResult = out.results.find((r) => r.task === 'copa')!
    expect(copaResult.metrics.acc.value).toBe(expected.reduce((x, y) => x + y, 0) / expected.length)
    expect(copaResult.metrics.acc.stderr).toBeCloseTo(meanStderr(expected), 15)
    const lambada = out.results.find((r) => r.task === 'lambada')!
    expect(lambada.metrics.ppl.value).toBeGreaterThan(1)
    expect(lambada.metrics.ppl.higherIsBetter).toBe(false)
    // generations are cut at the stop sequence
    for (const s of out.samples['wmt14-en-fr']) expect(String(s.results[0])).not.toContain('\n')
    for (const s of out.samples.drop) expect(String(s.results[0])).not.toContain('.')
  })

  it('says so when a model answers the wrong number of requests', async () => {
    const short = CharBigramModel.mobyDick(10_000)
    short.loglikelihood = async (reqs) => reqs.slice(1).map((r) => short.score(r.context, r.continuation))
    const built = await buildRequests(getTask('copa'), store, { numFewshot: 0 })
    await expect(runTask(getTask('copa'), short, built, { numFewshot: 0 })).rejects.toThrow(/model moby-dick-bigram returned 3 results for 4 loglikelihood requests/)
  })

  it('sends each request type to the model in one batch per task', async () => {
    const m = CharBigramModel.mobyDick(50_000)
    // mc_taco has no train split: few-shot examples come from its 1 validation document
    await expect(buildRequests(getTask('mc_taco'), store, { numFewshot: 1 })).rejects.toThrow(/mc_taco: cannot draw 1 few-shot examples \(2 sampled\) from a pool of 1 documents/)
    const built = await buildRequests(getTask('mc_taco'), store, { numFewshot: 0 })
    const { result } = await runTask(getTask('mc_taco'), m, built, { numFewshot: 0 })
    expect(m.calls).toBe(1)
    expect(result.documents).toBe(4)
    expect(result.metrics.em.stderr).toBeNull() // the harness gives MC-TACO no stderr
  })
})
