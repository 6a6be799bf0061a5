// SuperGLUE (lm_eval/tasks/superglue.py): boolq, cb, copa, record, wic, wsc.
// Data: Hugging Face aps/super_glue (the harness's datasets "super_glue"); evaluated on validation.
import type { HfDataset } from '../data/sources'
import type { Row } from '../data/parquet'
import { argmax } from '../metrics/choice'
import { computeExact, computeF1, maxOverGolds } from '../metrics/squad'
import { CB_F1, MEAN } from './aggregations'
import { generalDetokenize, hfLoader, int, str, strings, yesno } from './common'
import { defineTask, ll, llResult, type Task } from './types'

const sg = (config: string): HfDataset => ({ repo: 'aps/super_glue', config, harnessName: `super_glue/${config}` })
const TRAIN_VAL = { train: 'train', validation: 'validation' } as const
const lls = (results: Parameters<Task['processResults']>[1]) => results.map((r) => llResult(r).logprob)

interface BoolQDoc {
  passage: string
  question: string
  label: number
}
export const boolq = defineTask<BoolQDoc>({
  name: 'boolq',
  version: 1,
  family: 'superglue',
  source: 'HF super_glue/boolq',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('boolq', sg('boolq'), TRAIN_VAL, (r, w) => ({ passage: str(r, 'passage', w), question: str(r, 'question', w), label: int(r, 'label', w) })),
  docToText: (d) => `${d.passage}\nQuestion: ${d.question}?\nAnswer:`,
  docToTarget: (d) => ` ${yesno(d.label)}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    return { acc: (yes > no ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

interface CBDoc {
  premise: string
  hypothesis: string
  label: number
}
export const cb = defineTask<CBDoc>({
  name: 'cb',
  version: 1,
  family: 'superglue',
  source: 'HF super_glue/cb',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('cb', sg('cb'), TRAIN_VAL, (r, w) => ({ premise: str(r, 'premise', w), hypothesis: str(r, 'hypothesis', w), label: int(r, 'label', w) })),
  docToText: (d) => `${d.premise}\nQuestion: ${d.hypothesis}. True, False or Neither?\nAnswer:`,
  // 0 entailment, 1 contradiction, 2 neutral
  docToTarget: (d) => ` ${['True', 'False', 'Neither'][d.label]}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' True'), ll(ctx, ' False'), ll(ctx, ' Neither')],
  processResults: (d, r) => {
    const pred = argmax(lls(r))
    return { acc: pred === d.label ? 1 : 0, f1: [pred, d.label] }
  },
  aggregation: { acc: MEAN, f1: CB_F1 }
})

interface CopaDoc {
  premise: string
  choice1: string
  choice2: string
  question: string
  label: number
}
const convertChoice = (c: string): string => c.charAt(0).toLowerCase() + c.slice(1)
export const copa = defineTask<CopaDoc>({
  name: 'copa',
  version: 0,
  family: 'superglue',
  source: 'HF super_glue/copa',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('copa', sg('copa'), TRAIN_VAL, (r, w) => ({
    premise: str(r, 'premise', w),
    choice1: str(r, 'choice1', w),
    choice2: str(r, 'choice2', w),
    question: str(r, 'question', w),
    label: int(r, 'label', w)
  })),
  docToText: (d) => {
    const connector = { cause: 'because', effect: 'therefore' }[d.question]
    if (!connector) throw new Error(`copa: unknown question type ${d.question}`)
    // drop the final period
    return `${[...d.premise.trim()].slice(0, -1).join('')} ${connector}`
  },
  docToTarget: (d) => ` ${convertChoice(d.label === 0 ? d.choice1 : d.choice2)}`,
  constructRequests: (d, ctx) => [ll(ctx, ` ${convertChoice(d.choice1)}`), ll(ctx, ` ${convertChoice(d.choice2)}`)],
  processResults: (d, r) => ({ acc: argmax(lls(r)) === d.label ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

interface RecordDoc {
  passage: string
  query: string
  entities: string[]
  answers: string[]
}
const sortedSet = (xs: string[]): string[] => [...new Set(xs)].sort()
const formatAnswer = (query: string, entity: string): string => `  - ${query}`.replaceAll('@placeholder', entity)
export const record = defineTask<RecordDoc>({
  name: 'record',
  version: 0,
  family: 'superglue',
  source: 'HF super_glue/record',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('record', sg('record'), TRAIN_VAL, (r, w) => ({
    passage: str(r, 'passage', w),
    query: str(r, 'query', w),
    entities: sortedSet(strings(r, 'entities', w)),
    answers: sortedSet(strings(r, 'answers', w))
  })),
  docToText: (d) => {
    const [initial, ...highlights] = d.passage.trim().split('\n@highlight\n')
    return `${initial}\n\n${highlights.map((h) => `  - ${h}.\n`).join('')}`
  },
  docToTarget: (d) => formatAnswer(d.query, d.answers[0]),
  constructRequests: (d, ctx) => d.entities.map((e) => ll(ctx, formatAnswer(d.query, e))),
  processResults: (d, r) => {
    const prediction = d.entities[argmax(lls(r))]
    return { f1: maxOverGolds(computeF1, prediction, d.answers), em: maxOverGolds(computeExact, prediction, d.answers) }
  },
  aggregation: { f1: MEAN, em: MEAN }
})

interface WiCDoc {
  sentence1: string
  sentence2: string
  start1: number
  end1: number
  label: number
}
export const wic = defineTask<WiCDoc>({
  name: 'wic',
  version: 0,
  family: 'superglue',
  source: 'HF super_glue/wic',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('wic', sg('wic'), TRAIN_VAL, (r, w) => ({
    sentence1: str(r, 'sentence1', w),
    sentence2: str(r, 'sentence2', w),
    start1: int(r, 'start1', w),
    end1: int(r, 'end1', w),
    label: int(r, 'label', w)
  })),
  docToText: (d) =>
    `Sentence 1: ${d.sentence1}\nSentence 2: ${d.sentence2}\nQuestion: Is the word '${[...d.sentence1].slice(d.start1, d.end1).join('')}' used in the same way in the two sentences above?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 1 ? 'yes' : 'no'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    return { acc: (yes > no ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

interface WSCDoc {
  text: string
  span1_text: string
  span2_text: string
  span2_index: number
  label: number
}
const wscDoc = (r: Row, w: string): WSCDoc => ({
  text: str(r, 'text', w),
  span1_text: str(r, 'span1_text', w),
  span2_text: str(r, 'span2_text', w),
  span2_index: int(r, 'span2_index', w),
  label: int(r, 'label', w)
})
const wscLoad = hfLoader('wsc', sg('wsc'), TRAIN_VAL, wscDoc)
export const wsc = defineTask<WSCDoc>({
  name: 'wsc',
  version: 0,
  family: 'superglue',
  source: 'HF super_glue/wsc (few-shot pool: train docs with label True)',
  splits: { train: true, validation: true },
  // GPT-3's format uses only positive examples for few-shot "training"
  loadDocs: async (split, store) => {
    const docs = await wscLoad(split, store)
    return split === 'train' ? docs.filter((d) => d.label) : docs
  },
  docToText: (d) => {
    // span indices are word-based
    const pre = d.text.split(/\s+/).filter(Boolean).slice(0, d.span2_index).join(' ')
    const post = [...d.text].slice([...pre].length + [...d.span2_text].length + 1).join('')
    const passage = generalDetokenize(`${pre} *${d.span2_text}*${post}`)
    return `Passage: ${passage}\nQuestion: In the passage above, does the pronoun "*${d.span2_text}*" refer to "*${d.span1_text}*"?\nAnswer:`
  },
  docToTarget: (d) => ` ${yesno(d.label)}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    return { acc: (yes > no ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

export const superglueTasks: Task[] = [boolq, cb, copa, record, wic, wsc] as Task[]
