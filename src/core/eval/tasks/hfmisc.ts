// Other Hugging Face tasks with their own prompt shapes: race, mc_taco, webqs, wsc273, winogrande,
// anli_r3, blimp_adjunct_island.
import type { HfDataset } from '../data/sources'
import type { Row } from '../data/parquet'
import { argmax } from '../metrics/choice'
import type { EvalDataStore } from '../data/store'
import { MEAN } from './aggregations'
import { hfLoader, int, str, strings } from './common'
import { defineTask, ll, llResult, type Aggregation, type MetricItem, type Split, type Task } from './types'

const hf = (repo: string, config: string, harnessName: string): HfDataset => ({ repo, config, harnessName })
const lls = (results: Parameters<Task['processResults']>[1]) => results.map((r) => llResult(r).logprob)

// ---- RACE: one document per article (the GPT-3 paper's format), questions in order
interface RaceProblem {
  question: string
  answer: string
  options: string[]
}
interface RaceDoc {
  article: string
  problems: RaceProblem[]
}
const LETTER = { A: 0, B: 1, C: 2, D: 3 } as Record<string, number>
const raceRows = hfLoader('race', hf('ehovy/race', 'high', 'race/high'), { train: 'train', validation: 'validation', test: 'test' }, (r, w) => ({
  article: str(r, 'article', w),
  problem: { question: str(r, 'question', w), answer: str(r, 'answer', w), options: strings(r, 'options', w) }
}))
const answerOption = (p: RaceProblem): string => p.options[LETTER[p.answer]]
export const race = defineTask<RaceDoc>({
  name: 'race',
  version: 0,
  family: 'race',
  source: 'HF race/high, grouped by article',
  splits: { train: true, validation: true, test: true },
  loadDocs: async (split: Split, store: EvalDataStore) => {
    const byArticle = new Map<string, RaceProblem[]>()
    for (const row of await raceRows(split, store)) {
      const list = byArticle.get(row.article)
      if (list) list.push(row.problem)
      else byArticle.set(row.article, [row.problem])
    }
    return [...byArticle].map(([article, problems]) => ({ article, problems }))
  },
  docToText: (d) => {
    let text = `Article: ${d.article}\n\n`
    for (const p of d.problems.slice(0, -1)) {
      // cloze questions end in "  _  ." and are filled in place (the harness keeps its last 5 chars)
      if (p.question.slice(-6) === '  _  .') text += p.question.slice(-5) + answerOption(p) + '\n'
      else text += `Question: ${p.question}\nAnswer: ${answerOption(p)}\n`
    }
    return text + d.problems[d.problems.length - 1].question
  },
  docToTarget: (d) => ` ${answerOption(d.problems[d.problems.length - 1])}`,
  constructRequests: (d, ctx) => d.problems[d.problems.length - 1].options.slice(0, 4).map((o) => ll(ctx, ` ${o}`)),
  processResults: (d, r) => ({ acc: argmax(lls(r)) === LETTER[d.problems[d.problems.length - 1].answer] ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

// ---- MC-TACO: each candidate answer is a yes/no document; scored per question
interface MCTacoDoc {
  sentence: string
  question: string
  answer: string
  label: number
}
const mctacoItems = (items: MetricItem[]): [number, number, string][] =>
  items.map((x) => {
    if (typeof x === 'number' || x.length !== 3) throw new Error(`mc_taco: bad metric item ${JSON.stringify(x)}`)
    return [Number(x[0]), Number(x[1]), String(x[2])]
  })
const byQuestion = (items: MetricItem[]): Map<string, [number, number][]> => {
  const m = new Map<string, [number, number][]>()
  for (const [g, p, q] of mctacoItems(items)) (m.get(q) ?? m.set(q, []).get(q)!).push([g, p])
  return m
}
const MCTACO_EM: Aggregation = {
  aggregate: (items) => {
    const qs = [...byQuestion(items).values()]
    return qs.filter((xs) => xs.every(([g, p]) => g === p)).length / qs.length
  },
  stderr: 'none',
  higherIsBetter: true
}
const MCTACO_F1: Aggregation = {
  aggregate: (items) => {
    const f1s: number[] = []
    for (const xs of byQuestion(items).values()) {
      const gp = xs.reduce((s, [g]) => s + g, 0)
      const pp = xs.reduce((s, [, p]) => s + p, 0)
      const tp = xs.filter(([g, p]) => g && p).length
      const prec = pp > 0 ? tp / pp : 1
      const rec = gp > 0 ? tp / gp : 1
      if (prec + rec > 0) f1s.push((2 * prec * rec) / (prec + rec))
    }
    return f1s.reduce((a, b) => a + b, 0) / f1s.length
  },
  stderr: 'none',
  higherIsBetter: true
}
export const mcTaco = defineTask<MCTacoDoc>({
  name: 'mc_taco',
  version: 0,
  family: 'mc_taco',
  source: 'HF mc_taco',
  splits: { validation: true, test: true },
  loadDocs: hfLoader('mc_taco', hf('CogComp/mc_taco', 'plain_text', 'mc_taco'), { validation: 'validation', test: 'test' }, (r, w) => ({
    sentence: str(r, 'sentence', w),
    question: str(r, 'question', w),
    answer: str(r, 'answer', w),
    label: int(r, 'label', w)
  })),
  docToText: (d) => `${d.sentence}\nQuestion: ${d.question}\nAnswer: ${d.answer}\nPlausible:`,
  docToTarget: (d) => ` ${['no', 'yes'][d.label]}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' no'), ll(ctx, ' yes')],
  processResults: (d, r) => {
    const [no, yes] = lls(r)
    const item = [d.label, yes > no ? 1 : 0, `${d.sentence} ${d.question}`]
    return { em: item, f1: item }
  },
  aggregation: { em: MCTACO_EM, f1: MCTACO_F1 }
})

// ---- WebQuestions: correct if any alias is the greedy continuation
interface WebQsDoc {
  question: string
  answers: string[]
}
export function removePrefixes(aliases: readonly string[]): string[] {
  const sorted = [...aliases].sort()
  const out = [sorted[0]]
  for (const a of sorted.slice(1)) if (!a.startsWith(out[out.length - 1])) out.push(a)
  return out
}
export const webqs = defineTask<WebQsDoc>({
  name: 'webqs',
  version: 0,
  family: 'webqs',
  source: 'HF web_questions',
  splits: { train: true, test: true },
  loadDocs: hfLoader('webqs', hf('stanfordnlp/web_questions', 'default', 'web_questions'), { train: 'train', test: 'test' }, (r, w) => ({
    question: str(r, 'question', w),
    answers: strings(r, 'answers', w)
  })),
  docToText: (d) => `Question: ${d.question}\nAnswer:`,
  docToTarget: (d) => ` ${d.answers[0]}`,
  constructRequests: (d, ctx) => removePrefixes(d.answers).map((a) => ll(ctx, ` ${a}`)),
  processResults: (_d, r) => ({ acc: r.some((x) => llResult(x).isGreedy) ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

// ---- partial evaluation (Trinh & Le): score the rest of the sentence after each candidate
/** Replace the last "\n\n"-separated part of ctx (the doc's own prompt) with a partial context. */
export function appendContext(ctx: string, partial: string): string {
  const parts = ctx.split('\n\n')
  parts.pop()
  return parts.length ? [...parts, partial].join('\n\n') : partial
}

interface WSC273Doc {
  text: string
  pronoun: string
  pronoun_loc: number
  options: string[]
  label: number
}
const UPPER_PRONOUNS = ['A', 'An', 'The', 'She', 'He', 'It', 'They', 'My', 'His', 'Her', 'Their']
function wsc273Option(doc: { text: string; pronoun: string; pronoun_loc: number }, option: string): string {
  let o = option
  if (['my', 'his', 'her', 'our', 'their'].includes(doc.pronoun.toLowerCase())) o += "'s"
  const pronoun = o.split(/\s+/).filter(Boolean)[0]
  const startOfSentence = [...doc.text][doc.pronoun_loc - 2] === '.'
  if (!startOfSentence && UPPER_PRONOUNS.includes(pronoun)) return o.replaceAll(pronoun, pronoun.toLowerCase())
  return o
}
function wsc273Row(r: Row, w: string): WSC273Doc {
  const text = str(r, 'text', w).replaceAll('  ', ' ')
  const base = { text, pronoun: str(r, 'pronoun', w), pronoun_loc: int(r, 'pronoun_loc', w) }
  return { ...base, options: strings(r, 'options', w).map((o) => wsc273Option(base, o)), label: int(r, 'label', w) }
}
const cp = (s: string) => [...s]
const wscPartialContext = (d: WSC273Doc, option: string): string => cp(d.text).slice(0, d.pronoun_loc).join('') + option
const wscPartialTarget = (d: WSC273Doc): string =>
  ` ${cp(d.text)
    .slice(d.pronoun_loc + cp(d.pronoun).length)
    .join('')
    .trim()}`
export const wsc273 = defineTask<WSC273Doc>({
  name: 'wsc273',
  version: 0,
  family: 'wsc273',
  source: 'HF winograd_wsc/wsc273 (few-shot pool: test docs)',
  splits: { test: true },
  loadDocs: hfLoader('wsc273', hf('ErnestSDavis/winograd_wsc', 'wsc273', 'winograd_wsc/wsc273'), { test: 'test' }, wsc273Row),
  docToText: (d) => wscPartialContext(d, d.options[d.label]),
  docToTarget: wscPartialTarget,
  constructRequests: (d, ctx) => d.options.map((o) => ll(appendContext(ctx, wscPartialContext(d, o)), wscPartialTarget(d))),
  processResults: (d, r) => ({ acc: argmax(lls(r)) === d.label ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

interface WinograndeDoc {
  sentence: string
  option1: string
  option2: string
  answer: string
}
const wgContext = (d: WinograndeDoc, option: string): string => d.sentence.slice(0, d.sentence.indexOf('_')) + option
const wgTarget = (d: WinograndeDoc): string => ` ${d.sentence.slice(d.sentence.indexOf('_') + 1).trim()}`
export const winogrande = defineTask<WinograndeDoc>({
  name: 'winogrande',
  version: 0,
  family: 'winogrande',
  source: 'HF winogrande/winogrande_xl',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('winogrande', hf('allenai/winogrande', 'winogrande_xl', 'winogrande/winogrande_xl'), { train: 'train', validation: 'validation' }, (r, w) => ({
    sentence: str(r, 'sentence', w),
    option1: str(r, 'option1', w),
    option2: str(r, 'option2', w),
    answer: str(r, 'answer', w)
  })),
  docToText: (d) => wgContext(d, d.answer === '1' ? d.option1 : d.option2),
  docToTarget: wgTarget,
  constructRequests: (d, ctx) => [d.option1, d.option2].map((o) => ll(appendContext(ctx, wgContext(d, o)), wgTarget(d))),
  processResults: (d, r) => ({ acc: argmax(lls(r)) === ({ '1': 0, '2': 1 } as Record<string, number>)[d.answer] ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

interface ANLIDoc {
  premise: string
  hypothesis: string
  label: number
}
export const anliR3 = defineTask<ANLIDoc>({
  name: 'anli_r3',
  version: 0,
  family: 'anli',
  source: 'HF anli (test_r3)',
  splits: { train: true, validation: true, test: true },
  loadDocs: hfLoader('anli_r3', hf('facebook/anli', 'plain_text', 'anli'), { train: 'train_r3', validation: 'dev_r3', test: 'test_r3' }, (r, w) => ({
    premise: str(r, 'premise', w),
    hypothesis: str(r, 'hypothesis', w),
    label: int(r, 'label', w)
  })),
  docToText: (d) => `${d.premise}\nQuestion: ${d.hypothesis} True, False, or Neither?\nAnswer:`,
  docToTarget: (d) => ` ${['True', 'Neither', 'False'][d.label]}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' True'), ll(ctx, ' Neither'), ll(ctx, ' False')],
  processResults: (d, r) => ({ acc: argmax(lls(r)) === d.label ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

interface BlimpDoc {
  sentence_good: string
  sentence_bad: string
}
export const blimpAdjunctIsland = defineTask<BlimpDoc>({
  name: 'blimp_adjunct_island',
  version: 0,
  family: 'blimp',
  source: 'HF blimp/adjunct_island (split "train" used as validation; zero-shot only)',
  splits: { validation: true },
  zeroShotOnly: true,
  loadDocs: hfLoader('blimp_adjunct_island', hf('nyu-mll/blimp', 'adjunct_island', 'blimp/adjunct_island'), { validation: 'train' }, (r, w) => ({
    sentence_good: str(r, 'sentence_good', w),
    sentence_bad: str(r, 'sentence_bad', w)
  })),
  docToText: () => '',
  docToTarget: () => '',
  // an empty context: the model conditions on end-of-text
  constructRequests: (d) => [ll('', d.sentence_good), ll('', d.sentence_bad)],
  processResults: (_d, r) => {
    const [good, bad] = lls(r)
    return { acc: good > bad ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

export const hfMiscTasks: Task[] = [race, mcTaco, webqs, wsc273, winogrande, anliR3, blimpAdjunctIsland] as Task[]
