// Tasks scored on greedy generation (greedy_until), which the seed never ran on its own model:
// drop, math_algebra, wmt14-en-fr.
import { readTarEntries, readZipEntries } from '../data/archive'
import type { EvalDataStore } from '../data/store'
import { dropScore } from '../metrics/drop'
import { BLEU, CHRF, MEAN, TER } from './aggregations'
import { extractAnswer, isEquiv, lastBoxedOnlyString, removeBoxed } from './mathnorm'
import { defineTask, textResult, until, type Split, type Task } from './types'

// ---- DROP
const DROP = { url: 'https://s3-us-west-2.amazonaws.com/allennlp/datasets/drop/drop_dataset.zip', name: 'drop_dataset.zip', sha256: '39d2278a29fd729de301b111a45f434c24834f40df8f4ff116d864589e3249d6' }
interface DropAnswerJson {
  number?: string | number
  spans?: string[]
  date?: { day?: string; month?: string; year?: string }
}
interface DropDoc {
  id: string
  passage: string
  question: string
  answers: string[][]
}
/** parse_answer: a number, else the spans, else the date "day month year". */
export function parseDropAnswer(a: DropAnswerJson): string[] {
  if (a.number !== undefined && a.number !== '') return [String(a.number)]
  if (a.spans && a.spans.length) return a.spans
  const d = a.date ?? {}
  return [[d.day ?? '', d.month ?? '', d.year ?? ''].join(' ').trim()]
}
export function dropDocs(json: Record<string, { passage: string; qa_pairs: { query_id: string; question: string; answer: DropAnswerJson; validated_answers?: DropAnswerJson[] }[] }>): DropDoc[] {
  const docs: DropDoc[] = []
  for (const passage of Object.values(json)) {
    for (const qa of passage.qa_pairs) {
      const seen = new Set<string>()
      const answers: string[][] = []
      for (const cand of [qa.answer, ...(qa.validated_answers ?? [])]) {
        const a = parseDropAnswer(cand)
        const key = JSON.stringify(a)
        if (!seen.has(key)) {
          seen.add(key)
          answers.push(a)
        }
      }
      docs.push({ id: qa.query_id, passage: passage.passage, question: qa.question, answers })
    }
  }
  return docs
}
export const drop = defineTask<DropDoc>({
  name: 'drop',
  version: 1,
  family: 'drop',
  source: `${DROP.url} -> drop_dataset/drop_dataset_dev.json`,
  splits: { train: true, validation: true },
  loadDocs: async (split: Split, store: EvalDataStore) => {
    const member = `drop_dataset/drop_dataset_${split === 'train' ? 'train' : 'dev'}.json`
    const zip = await store.file('drop', DROP)
    const data = readZipEntries(zip, (n) => n === member).get(member)
    if (!data) throw new Error(`drop: ${zip} has no "${member}"; delete it to download it again.`)
    return dropDocs(JSON.parse(data.toString('utf8')))
  },
  docToText: (d) => `Passage: ${d.passage}\nQuestion: ${d.question}\nAnswer:`,
  docToTarget: (d) => ` ${d.answers[0].join(', ')}`,
  constructRequests: (_d, ctx) => [until(ctx, ['.'])],
  processResults: (d, r) => dropScore([textResult(r[0])], d.answers),
  aggregation: { em: MEAN, f1: MEAN }
})

// ---- MATH algebra
const MATH = { url: 'https://people.eecs.berkeley.edu/~hendrycks/MATH.tar', name: 'MATH.tar' }
interface MathDoc {
  problem: string
  solution: string
  level?: string
  type?: string
}
export const mathAlgebra = defineTask<MathDoc>({
  name: 'math_algebra',
  version: 1,
  family: 'math',
  source: `${MATH.url} -> MATH/test/algebra/*.json`,
  splits: { train: true, test: true },
  loadDocs: async (split, store) => {
    const dir = `MATH/${split === 'train' ? 'train' : 'test'}/algebra/`
    const entries = await readTarEntries(await store.file('math_algebra', MATH), (n) => n.startsWith(dir) && n.endsWith('.json'))
    if (entries.size === 0) throw new Error(`math_algebra: MATH.tar has no ${dir}*.json; delete it to download it again.`)
    return [...entries.keys()].sort().map((k) => JSON.parse(entries.get(k)!.toString('utf8')) as MathDoc)
  },
  docToText: (d) => `Problem: ${d.problem}\nAnswer:`,
  docToTarget: (d) => ` ${d.solution}`,
  constructRequests: (_d, ctx) => [until(ctx, ['\n'])],
  processResults: (d, r) => ({ acc: isEquiv(extractAnswer(textResult(r[0])), removeBoxed(lastBoxedOnlyString(d.solution))) ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

// ---- WMT14 en-fr through sacrebleu's test set download: sacrebleu's "wmt14" is the official
// (filtered) newstest2014, test/newstest2014-fren-{src.en,ref.fr}.sgm in test-filtered.tgz
const WMT14 = { url: 'http://statmt.org/wmt14/test-filtered.tgz', name: 'test-filtered.tgz' }
/** sacrebleu's SGML extraction: each <seg ...>text</seg> line, whitespace trimmed and collapsed. */
export function sgmlSegments(sgm: string): string[] {
  return sgm
    .split('\n')
    .filter((line) => line.startsWith('<seg '))
    .map((line) =>
      line
        .replace(/<seg.*?>(.*)<\/seg>.*?/, '$1')
        .trim()
        .replace(/\s+/g, ' ')
    )
}
interface WmtDoc {
  src: string
  ref: string
}
export const wmt14EnFr = defineTask<WmtDoc>({
  name: 'wmt14-en-fr',
  version: 0,
  family: 'wmt',
  source: 'sacrebleu wmt14 en-fr: statmt.org test-filtered.tgz test/newstest2014-fren-{src.en,ref.fr}.sgm',
  splits: { test: true },
  loadDocs: async (_split, store) => {
    const tgz = await store.file('wmt14-en-fr', WMT14)
    const srcName = 'test/newstest2014-fren-src.en.sgm'
    const refName = 'test/newstest2014-fren-ref.fr.sgm'
    const entries = await readTarEntries(tgz, (n) => n === srcName || n === refName)
    const src = entries.get(srcName)
    const ref = entries.get(refName)
    if (!src || !ref) throw new Error(`wmt14-en-fr: ${tgz} lacks ${srcName} or ${refName}; delete it to download it again.`)
    const s = sgmlSegments(src.toString('utf8'))
    const r = sgmlSegments(ref.toString('utf8'))
    if (s.length !== r.length) throw new Error(`wmt14-en-fr: ${s.length} source segments but ${r.length} reference segments`)
    return s.map((x, i) => ({ src: x.trimEnd(), ref: r[i].trimEnd() }))
  },
  docToText: (d) => `English phrase: ${d.src}\nFrench phrase:`,
  docToTarget: (d) => ` ${d.ref}`,
  constructRequests: (_d, ctx) => [until(ctx, ['\n'])],
  processResults: (d, r) => {
    const item = [d.ref, textResult(r[0])]
    return { bleu: item, chrf: item, ter: item }
  },
  aggregation: { bleu: BLEU, chrf: CHRF, ter: TER }
})

export const generationTasks: Task[] = [drop, mathAlgebra, wmt14EnFr] as Task[]
