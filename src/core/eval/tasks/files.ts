// Tasks whose data are official files rather than Hugging Face datasets: sciq (zip of JSON),
// qa4mre_2013 (XML), logiqa (text), ethics_cm (tar of CSV), arithmetic_2da (JSONL).
import fs from 'node:fs'
import { parse as parseCsv } from 'csv-parse/sync'
import { XMLParser } from 'fast-xml-parser'
import { readTarEntries, readZipEntries } from '../data/archive'
import type { EvalDataStore } from '../data/store'
import { MEAN } from './aggregations'
import { multipleChoiceTask, yesno, type MCDoc } from './common'
import { readJsonl } from './lambada'
import { defineTask, ll, llResult, type Split, type Task } from './types'

// ---- SciQ
const SCIQ = { url: 'https://ai2-public-datasets.s3.amazonaws.com/sciq/SciQ.zip', name: 'SciQ.zip', sha256: '7f3312f6ac6b09970b32942d106a8c44ec0dad46a0369f17d635aff8e348a87c' }
interface SciQDoc extends MCDoc {
  source: string
}
export const sciq = multipleChoiceTask<SciQDoc>({
  name: 'sciq',
  version: 0,
  family: 'sciq',
  source: `${SCIQ.url} -> SciQ dataset-2 3/*.json`,
  splits: { train: true, validation: true, test: true },
  loadDocs: async (split: Split, store: EvalDataStore) => {
    const member = `SciQ dataset-2 3/${{ train: 'train', validation: 'valid', test: 'test' }[split]}.json`
    const zip = await store.file('sciq', SCIQ)
    const data = readZipEntries(zip, (n) => n === member).get(member)
    if (!data) throw new Error(`sciq: ${zip} has no "${member}"; delete it to download it again.`)
    const rows = JSON.parse(data.toString('utf8')) as Record<string, string>[]
    return rows.map((d) => ({ source: d.support, query: d.question, choices: [d.distractor1, d.distractor2, d.distractor3, d.correct_answer], gold: 3 }))
  },
  docToText: (d) => `${d.source}\nQuestion: ${d.query}\nAnswer:`.trim()
})

// ---- QA4MRE 2013
const QA4MRE = {
  url: 'http://nlp.uned.es/clef-qa/repository/js/scripts/downloadFile.php?file=/var/www/html/nlp/clef-qa/repository/resources/QA4MRE/2013/Main_Task/Training_Data/Goldstandard/QA4MRE-2013-EN_GS.xml',
  name: 'QA4MRE-2013-EN_GS.xml',
  sha256: 'c60e5aa4ec77e0493ef0b11d46bd1d74d58a499a3a2f871b8cf3af9536f0f094'
}
interface QA4MREDoc extends MCDoc {
  source: string
}
type XmlNode = Record<string, unknown>
const asList = (x: unknown): XmlNode[] => (x === undefined ? [] : Array.isArray(x) ? (x as XmlNode[]) : [x as XmlNode])
const textOf = (x: unknown): string => (typeof x === 'string' || typeof x === 'number' ? String(x) : typeof x === 'object' && x && '#text' in x ? String((x as XmlNode)['#text']) : '')
export function parseQa4mre(xml: string): QA4MREDoc[] {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    trimValues: false,
    parseTagValue: false,
    isArray: (name) => ['topic', 'reading-test', 'q', 'answer'].includes(name)
  })
  const root = parser.parse(xml) as XmlNode
  const docs: QA4MREDoc[] = []
  const testSet = (root['test-set'] ?? {}) as XmlNode
  for (const topic of asList(testSet.topic)) {
    for (const rt of asList(topic['reading-test'])) {
      const source = textOf(rt.doc).trim()
      for (const q of asList(rt.q)) {
        const answers = asList(q.answer)
        const correct = answers.find((a) => a['@_correct'] === 'Yes')
        if (!correct) throw new Error(`qa4mre: a question has no answer marked correct="Yes"`)
        docs.push({ source, query: textOf(q.q_str), choices: answers.map(textOf), gold: Number(correct['@_a_id']) - 1 })
      }
    }
  }
  if (docs.length === 0) throw new Error('qa4mre: no <reading-test> questions found in the XML')
  return docs
}
export const qa4mre2013 = multipleChoiceTask<QA4MREDoc>({
  name: 'qa4mre_2013',
  version: 0,
  family: 'qa4mre',
  source: 'UNED CLEF QA4MRE-2013-EN_GS.xml',
  splits: { test: true },
  loadDocs: async (_split, store) => parseQa4mre(fs.readFileSync(await store.file('qa4mre_2013', QA4MRE), 'utf8')),
  docToText: (d) => `${d.source}\nQuestion: ${d.query}\nAnswer:`
})

// ---- LogiQA
const LOGIQA_BASE = 'https://raw.githubusercontent.com/lgw863/LogiQA-dataset/master'
const LOGIQA_FILES: Record<Split, { name: string; sha256: string }> = {
  train: { name: 'Train.txt', sha256: '7d5bb1f58278e33b395744cd2ad8d7600faa0b3c4d615c659a44ec1181d759fa' },
  validation: { name: 'Eval.txt', sha256: '4c49e6753b7262c001506b9151135abf722247035ab075dad93acdea5789c01f' },
  test: { name: 'Test.txt', sha256: '359acb78c37802208f7fde9e2f6574b8526527c63d6a336f90a53f1932cb4701' }
}
export function parseLogiqa(text: string): MCDoc[] {
  const normalize = (s: string): string => s.replaceAll('.', '. ').trim()
  return text
    .trim()
    .split('\n\n')
    .map((raw, i) => {
      const lines = raw.split('\n')
      if (lines.length < 7) throw new Error(`logiqa: record ${i + 1} has ${lines.length} lines, expected answer, passage, question and 4 options`)
      const doc = { answerKey: lines[0].trim(), passage: normalize(lines[1]), question: normalize(lines[2]), options: lines.slice(3).map((o) => normalize(o.slice(2))) }
      const letters = ['a', 'b', 'c', 'd']
      let query = `Passage: ${doc.passage}\nQuestion: ${doc.question}\nChoices:\n`
      doc.options.forEach((o, j) => (query += `${letters[j].toUpperCase()}. ${o}\n`))
      return { query: query + 'Answer:', choices: doc.options, gold: letters.indexOf(doc.answerKey) }
    })
}
export const logiqa = multipleChoiceTask<MCDoc>({
  name: 'logiqa',
  version: 0,
  family: 'logiqa',
  source: `${LOGIQA_BASE}/Test.txt`,
  splits: { train: true, validation: true, test: true },
  loadDocs: async (split, store) => {
    const f = LOGIQA_FILES[split]
    return parseLogiqa(fs.readFileSync(await store.file('logiqa', { url: `${LOGIQA_BASE}/${f.name}`, ...f }), 'utf8'))
  }
})

// ---- ETHICS commonsense morality
const ETHICS = { url: 'https://people.eecs.berkeley.edu/~hendrycks/ethics.tar', name: 'ethics.tar' }
export async function readCsvFromTar(task: string, tar: string, member: string): Promise<string[][]> {
  const data = (await readTarEntries(tar, (n) => n === member)).get(member)
  if (!data) throw new Error(`${task}: ${tar} has no "${member}"; delete it to download it again.`)
  return parseCsv(data.toString('utf8'), { relax_column_count: true }) as string[][]
}
type EthicsDoc = string[]
export const ethicsCm = defineTask<EthicsDoc>({
  name: 'ethics_cm',
  version: 0,
  family: 'ethics',
  source: `${ETHICS.url} -> ethics/commonsense/cm_test.csv`,
  splits: { train: true, test: true },
  // the header row is skipped; long scenarios are kept
  loadDocs: async (split, store) => (await readCsvFromTar('ethics_cm', await store.file('ethics_cm', ETHICS), `ethics/commonsense/cm_${split === 'train' ? 'train' : 'test'}.csv`)).slice(1),
  docToText: (d) => `${d[1]}\nQuestion: Is this wrong?\nAnswer:`,
  docToTarget: (d) => ` ${yesno(Number(d[0]))}`,
  constructRequests: (_d, ctx) => [ll(ctx, ' yes'), ll(ctx, ' no')],
  processResults: (d, r) => {
    const [yes, no] = r.map((x) => llResult(x).logprob)
    return { acc: yes > no === Boolean(Number(d[0])) ? 1 : 0 }
  },
  aggregation: { acc: MEAN }
})

// ---- Arithmetic (GPT-3's two-digit addition)
const ARITH = {
  url: 'https://raw.githubusercontent.com/openai/gpt-3/master/data/two_digit_addition.jsonl',
  name: 'two_digit_addition.jsonl',
  sha256: '75a54b7a3db3b23369df74fe440c23025f3d3c51f664300bd3d56632b2617b3d'
}
interface ArithmeticDoc {
  context: string
  completion: string
}
export const arithmetic2da = defineTask<ArithmeticDoc>({
  name: 'arithmetic_2da',
  version: 0,
  family: 'arithmetic',
  source: ARITH.url,
  splits: { validation: true },
  loadDocs: async (_split, store) =>
    readJsonl(await store.file('arithmetic_2da', ARITH), 'arithmetic_2da').map((row, i) => {
      const { context, completion } = row as { context?: unknown; completion?: unknown }
      if (typeof context !== 'string' || typeof completion !== 'string') throw new Error(`arithmetic_2da: line ${i + 1} lacks "context" / "completion" strings`)
      return { context: context.trim().replaceAll('\n\n', '\n').replaceAll('Q:', 'Question:').replaceAll('A:', 'Answer:'), completion }
    }),
  docToText: (d) => d.context,
  docToTarget: (d) => d.completion,
  constructRequests: (d, ctx) => [ll(ctx, d.completion)],
  processResults: (_d, r) => ({ acc: llResult(r[0]).isGreedy ? 1 : 0 }),
  aggregation: { acc: MEAN }
})

export const fileTasks: Task[] = [sciq, qa4mre2013, logiqa, ethicsCm, arithmetic2da] as Task[]
