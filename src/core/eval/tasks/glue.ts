// GLUE (lm_eval/tasks/glue.py): cola, mnli, mnli_mismatched, mrpc, rte, qnli, qqp, sst, wnli.
// Data: Hugging Face nyu-mll/glue (the harness's datasets "glue"); evaluated on validation.
import type { HfDataset } from '../data/sources'
import { argmax } from '../metrics/choice'
import { F1, MCC, MEAN } from './aggregations'
import { generalDetokenize, hfLoader, int, str, yesno } from './common'
import { defineTask, ll, llResult, type Task } from './types'

const glue = (config: string): HfDataset => ({ repo: 'nyu-mll/glue', config, harnessName: `glue/${config}` })
const TRAIN_VAL = { train: 'train', validation: 'validation' } as const
const lls = (results: Parameters<Task['processResults']>[1]) => results.map((r) => llResult(r).logprob)

interface CoLADoc {
  sentence: string
  label: number
}
export const cola = defineTask<CoLADoc>({
  name: 'cola',
  version: 0,
  family: 'glue',
  source: 'HF glue/cola',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('cola', glue('cola'), TRAIN_VAL, (r, w) => ({ sentence: str(r, 'sentence', w), label: int(r, 'label', w) })),
  docToText: (d) => `${d.sentence}\nQuestion: Does this sentence make sense?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 1 ? 'yes' : 'no'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    return { mcc: [d.label, yes > no ? 1 : 0] }
  },
  aggregation: { mcc: MCC }
})

interface MNLIDoc {
  premise: string
  hypothesis: string
  label: number
}
const mnliBase = (name: string, validation: string): Task<MNLIDoc> =>
  defineTask<MNLIDoc>({
    name,
    version: 0,
    family: 'glue',
    source: `HF glue/mnli ${validation}`,
    splits: { train: true, validation: true },
    loadDocs: hfLoader(name, glue('mnli'), { train: 'train', validation }, (r, w) => ({ premise: str(r, 'premise', w), hypothesis: str(r, 'hypothesis', w), label: int(r, 'label', w) })),
    docToText: (d) => {
      const h = d.hypothesis.trim()
      return `${d.premise}\nQuestion: ${h}${h.endsWith('.') ? '' : '.'} True, False or Neither?\nAnswer:`
    },
    docToTarget: (d) => ` ${['True', 'Neither', 'False'][d.label]}`,
    constructRequests: (_d, ctx) => [ll(ctx, ' True'), ll(ctx, ' Neither'), ll(ctx, ' False')],
    processResults: (d, r) => ({ acc: argmaxIs(lls(r), d.label) }),
    aggregation: { acc: MEAN }
  })
export const mnli = mnliBase('mnli', 'validation_matched')
export const mnliMismatched = mnliBase('mnli_mismatched', 'validation_mismatched')

interface PairDoc {
  sentence1: string
  sentence2: string
  label: number
}
const pair = (r: Parameters<Parameters<typeof hfLoader>[3]>[0], w: string, a = 'sentence1', b = 'sentence2'): PairDoc => ({
  sentence1: str(r, a, w),
  sentence2: str(r, b, w),
  label: int(r, 'label', w)
})

export const mrpc = defineTask<PairDoc>({
  name: 'mrpc',
  version: 0,
  family: 'glue',
  source: 'HF glue/mrpc',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('mrpc', glue('mrpc'), TRAIN_VAL, (r, w) => pair(r, w)),
  docToText: (d) => `Sentence 1: ${generalDetokenize(d.sentence1)}\nSentence 2: ${generalDetokenize(d.sentence2)}\nQuestion: Do both sentences mean the same thing?\nAnswer:`,
  docToTarget: (d) => ` ${yesno(d.label)}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    const pred = yes > no ? 1 : 0
    return { acc: pred === d.label ? 1 : 0, f1: [d.label, pred] }
  },
  aggregation: { acc: MEAN, f1: F1 }
})

export const rte = defineTask<PairDoc>({
  name: 'rte',
  version: 0,
  family: 'glue',
  source: 'HF glue/rte',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('rte', glue('rte'), TRAIN_VAL, (r, w) => pair(r, w)),
  docToText: (d) => `${d.sentence1}\nQuestion: ${d.sentence2} True or False?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 0 ? 'True' : 'False'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' True'), ll(ctx, ' False')],
  processResults: (d, r) => {
    const [t, f] = lls(r)
    return { acc: (f > t ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

interface QNLIDoc {
  question: string
  sentence: string
  label: number
}
export const qnli = defineTask<QNLIDoc>({
  name: 'qnli',
  version: 0,
  family: 'glue',
  source: 'HF glue/qnli',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('qnli', glue('qnli'), TRAIN_VAL, (r, w) => ({ question: str(r, 'question', w), sentence: str(r, 'sentence', w), label: int(r, 'label', w) })),
  docToText: (d) => `${d.question}\n${d.sentence}\nQuestion: Does this response answer the question?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 0 ? 'yes' : 'no'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    return { acc: (no > yes ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

export const qqp = defineTask<PairDoc>({
  name: 'qqp',
  version: 0,
  family: 'glue',
  source: 'HF glue/qqp',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('qqp', glue('qqp'), TRAIN_VAL, (r, w) => pair(r, w, 'question1', 'question2')),
  docToText: (d) => `Question 1: ${d.sentence1}\nQuestion 2: ${d.sentence2}\nQuestion: Do both questions ask the same thing?\nAnswer:`,
  docToTarget: (d) => ` ${yesno(d.label)}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = lls(r)
    const pred = yes > no ? 1 : 0
    return { acc: pred === d.label ? 1 : 0, f1: [d.label, pred] }
  },
  aggregation: { acc: MEAN, f1: F1 }
})

interface SSTDoc {
  sentence: string
  label: number
}
export const sst = defineTask<SSTDoc>({
  name: 'sst',
  version: 0,
  family: 'glue',
  source: 'HF glue/sst2',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('sst', glue('sst2'), TRAIN_VAL, (r, w) => ({ sentence: str(r, 'sentence', w), label: int(r, 'label', w) })),
  docToText: (d) => `${generalDetokenize(d.sentence)}\nQuestion: Is this sentence positive or negative?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 1 ? 'positive' : 'negative'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' positive'), ll(ctx, ' negative')],
  processResults: (d, r) => {
    const [pos, neg] = lls(r)
    return { acc: (pos > neg ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

export const wnli = defineTask<PairDoc>({
  name: 'wnli',
  version: 1,
  family: 'glue',
  source: 'HF glue/wnli',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('wnli', glue('wnli'), TRAIN_VAL, (r, w) => pair(r, w)),
  docToText: (d) => `${d.sentence1}\nQuestion: ${d.sentence2} True or False?\nAnswer:`,
  docToTarget: (d) => ` ${d.label === 1 ? 'True' : 'False'}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' True'), ll(ctx, ' False')],
  processResults: (d, r) => {
    const [t, f] = lls(r)
    return { acc: (t > f ? 1 : 0) === d.label ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

const argmaxIs = (xs: number[], gold: number): number => (argmax(xs) === gold ? 1 : 0)

export const glueTasks: Task[] = [cola, mnli, mnliMismatched, mrpc, rte, qnli, qqp, sst, wnli] as Task[]
