// Helpers the task modules share: the harness's small text utilities, typed access to dataset
// rows (with errors that name the task and field), Hugging Face split loading, and the
// MultipleChoiceTask shape (query, choices, gold -> acc and acc_norm).
import type { EvalResult } from '../../../shared/eval'
import { multipleChoiceScores } from '../metrics/choice'
import type { EvalDataStore } from '../data/store'
import type { HfDataset } from '../data/sources'
import type { Row } from '../data/parquet'
import { MEAN } from './aggregations'
import { defineTask, ll, llResult, type Split, type Task } from './types'

export const yesno = (x: unknown): string => (x ? 'yes' : 'no')

/** lm_eval.utils.general_detokenize */
export function generalDetokenize(s: string): string {
  return s
    .replaceAll(" n't", "n't")
    .replaceAll(' )', ')')
    .replaceAll('( ', '(')
    .replaceAll('" ', '"')
    .replaceAll(' "', '"')
    .replace(/ (['.,])/g, '$1')
}

/** str.capitalize(): first character upper case, the rest lower case. */
export function pyCapitalize(s: string): string {
  const chars = [...s]
  if (chars.length === 0) return s
  return chars[0].toUpperCase() + chars.slice(1).join('').toLowerCase()
}

export function str(row: Row, field: string, where: string): string {
  const v = row[field]
  if (typeof v !== 'string') throw new Error(`${where}: field "${field}" is ${JSON.stringify(v)}, expected a string`)
  return v
}

export function int(row: Row, field: string, where: string): number {
  const v = row[field]
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`${where}: field "${field}" is ${JSON.stringify(v)}, expected an integer`)
  return n
}

export function strings(row: Row, field: string, where: string): string[] {
  const v = row[field]
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`${where}: field "${field}" is ${JSON.stringify(v)}, expected a list of strings`)
  return v as string[]
}

export function record(row: Row, field: string, where: string): Row {
  const v = row[field]
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error(`${where}: field "${field}" is ${JSON.stringify(v)}, expected an object`)
  return v as Row
}

/** Load a split of a Hugging Face dataset and convert each row. */
export function hfLoader<D>(task: string, ds: HfDataset, splitNames: Partial<Record<Split, string>>, convert: (row: Row, where: string) => D) {
  return async (split: Split, store: EvalDataStore): Promise<D[]> => {
    const hfSplit = splitNames[split]
    if (!hfSplit) throw new Error(`${task} has no ${split} split`)
    const rows = await store.hfRows(task, ds, hfSplit)
    return rows.map((r, i) => convert(r, `${task} ${ds.repo}/${ds.config}/${hfSplit} row ${i}`))
  }
}

export interface MCDoc {
  query: string
  choices: string[]
  gold: number
}

export type MCTaskSpec<D extends MCDoc> = Omit<Task<D>, 'docToText' | 'docToTarget' | 'constructRequests' | 'processResults' | 'aggregation'> & Partial<Pick<Task<D>, 'docToText'>>

/** The harness's MultipleChoiceTask: target " " + choices[gold], one request per choice. */
export function multipleChoiceTask<D extends MCDoc>(spec: MCTaskSpec<D>): Task<D> {
  return defineTask<D>({
    docToText: (doc) => doc.query,
    ...spec,
    docToTarget: (doc) => ` ${doc.choices[doc.gold]}`,
    constructRequests: (doc, ctx) => doc.choices.map((c) => ll(ctx, ` ${c}`)),
    processResults: (doc, results: EvalResult[]) =>
      multipleChoiceScores(
        results.map((r) => llResult(r).logprob),
        doc.choices,
        doc.gold
      ),
    aggregation: { acc: MEAN, acc_norm: MEAN }
  })
}
