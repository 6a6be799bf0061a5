// LAMBADA (lm_eval/tasks/lambada.py): OpenAI's LAMBADA test file, JSONL {"text"}, the harness's
// "validation" docs. Context = text without its last word; continuation = " " + last word.
// ppl = exp(-mean log-likelihood) with bootstrap stderr; acc = mean of is_greedy.
import fs from 'node:fs'
import { MEAN, PERPLEXITY } from './aggregations'
import { defineTask, ll, llResult } from './types'

const FILE = { url: 'http://eaidata.bmk.sh/data/lambada_test.jsonl', name: 'lambada_test.jsonl', sha256: '4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226' }

export function readJsonl(file: string, what: string): unknown[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      try {
        return JSON.parse(l) as unknown
      } catch {
        throw new Error(`${what}: line ${i + 1} of ${file} is not JSON; delete the file to download it again.`)
      }
    })
}

interface LambadaDoc {
  text: string
}
const splitLast = (text: string): [string, string] => {
  const i = text.lastIndexOf(' ')
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)]
}

export const lambada = defineTask<LambadaDoc>({
  name: 'lambada',
  version: 0,
  family: 'lambada',
  source: FILE.url,
  splits: { validation: true },
  loadDocs: async (_split, store) =>
    readJsonl(await store.file('lambada', FILE), 'lambada').map((row, i) => {
      const text = (row as { text?: unknown }).text
      if (typeof text !== 'string') throw new Error(`lambada: line ${i + 1} has no "text" string`)
      return { text }
    }),
  docToText: (d) => splitLast(d.text)[0],
  docToTarget: (d) => ` ${splitLast(d.text)[1]}`,
  constructRequests: (d, ctx) => [ll(ctx, ` ${splitLast(d.text)[1]}`)],
  processResults: (_d, r) => {
    const { logprob, isGreedy } = llResult(r[0])
    return { ppl: logprob, acc: isGreedy ? 1 : 0 }
  },
  aggregation: { ppl: PERPLEXITY, acc: MEAN }
})
