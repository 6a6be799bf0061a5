// hendrycksTest (MMLU) abstract_algebra: Berkeley data.tar CSVs (no header); evaluated on test/,
// few-shot examples from dev/ (same distribution), choices are the answer texts.
import type { EvalDataStore } from '../data/store'
import { multipleChoiceTask, type MCDoc } from './common'
import { readCsvFromTar } from './files'
import type { Split } from './types'

const DATA = { url: 'https://people.eecs.berkeley.edu/~hendrycks/data.tar', name: 'data.tar' }
const LETTERS = ['A', 'B', 'C', 'D']

export function mmluDoc(row: string[]): MCDoc {
  let query = `Question: ${row[0]}\nChoices:\n`
  for (let j = 0; j < 4; j++) query += `${LETTERS[j]}. ${row[j + 1]}\n`
  return { query: query + 'Answer:', choices: row.slice(1, 5), gold: LETTERS.indexOf(row[5]) }
}

function hendrycksTest(subject: string) {
  const name = `hendrycksTest-${subject}`
  const load = async (dir: 'test' | 'val' | 'dev', store: EvalDataStore): Promise<MCDoc[]> =>
    (await readCsvFromTar(name, await store.file(name, DATA), `data/${dir}/${subject}_${dir}.csv`)).map(mmluDoc)
  return multipleChoiceTask<MCDoc>({
    name,
    version: 0,
    family: 'hendrycks',
    source: `${DATA.url} -> data/test/${subject}_test.csv (few-shot: dev/)`,
    splits: { train: true, validation: true, test: true },
    loadDocs: async (split: Split, store) => {
      if (split === 'train') throw new Error(`${name}: few-shot examples come from dev/, not auxiliary_train`)
      return load(split === 'test' ? 'test' : 'val', store)
    },
    fewshotDocs: (store) => load('dev', store)
  })
}

export const hendrycksAbstractAlgebra = hendrycksTest('abstract_algebra')
