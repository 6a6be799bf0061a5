// For every one of the 39 tasks: documents fetched from the local fixture server in their real
// formats, and the exact prompt, target and requests built for them compared with goldens derived
// in Python from the harness's formulas (goldens/prompts.json, tools/eval/prompt_goldens.py, each
// entry naming its harness source). Few-shot contexts follow the evaluator's Random(42) order.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EvalRequest } from '../../src/shared/eval'
import { buildRequests } from '../../src/core/eval/build'
import { EvalDataStore } from '../../src/core/eval/data/store'
import { TASKS, getTask } from '../../src/core/eval/tasks/registry'
import { evalSplit } from '../../src/core/eval/tasks/types'
import { tempDir } from '../helpers'
import { startFixtureServer, type FixtureServer } from './fixture-server'

type GoldenRequest = ['loglikelihood', string, string] | ['greedy_until', string, string[]]
interface Golden {
  source: string
  docs: { text: string; target: string; requests: GoldenRequest[] }[]
  fewshot?: { k: number; contexts: string[] }
}
const goldens: { generated_by: string; tasks: Record<string, Golden> } = JSON.parse(fs.readFileSync(path.join(__dirname, 'goldens', 'prompts.json'), 'utf8'))
const SEED_TASKS = [
  'cola',
  'mnli',
  'mnli_mismatched',
  'mrpc',
  'rte',
  'qnli',
  'qqp',
  'sst',
  'wnli',
  'boolq',
  'cb',
  'copa',
  'record',
  'wic',
  'wsc',
  'drop',
  'lambada',
  'piqa',
  'prost',
  'mc_taco',
  'sciq',
  'qa4mre_2013',
  'arc_challenge',
  'logiqa',
  'hellaswag',
  'openbookqa',
  'race',
  'headqa',
  'mathqa',
  'webqs',
  'wsc273',
  'winogrande',
  'anli_r3',
  'ethics_cm',
  'math_algebra',
  'arithmetic_2da',
  'hendrycksTest-abstract_algebra',
  'wmt14-en-fr',
  'blimp_adjunct_island'
]

const toRequest = (g: GoldenRequest): EvalRequest => (g[0] === 'loglikelihood' ? { type: 'loglikelihood', context: g[1], continuation: g[2] } : { type: 'greedy_until', context: g[1], stops: g[2] })

let server: FixtureServer
let store: EvalDataStore
beforeAll(async () => {
  server = await startFixtureServer()
  store = new EvalDataStore(tempDir('gptw-eval-prompts-'), server.sources)
})
afterAll(() => server.close())

describe('the task registry', () => {
  it("has exactly the seed's 39 tasks, and a golden for each", () => {
    expect(TASKS.map((t) => t.name).sort()).toEqual([...SEED_TASKS].sort())
    expect(Object.keys(goldens.tasks).sort()).toEqual([...SEED_TASKS].sort())
    expect(goldens.generated_by).toBe('tools/eval/prompt_goldens.py')
  })
  it('rejects an unknown task by name', () => {
    expect(() => getTask('lambada_openai')).toThrow(/Unknown eval task "lambada_openai"/)
  })
})

describe.each(SEED_TASKS)('%s', (name) => {
  const golden = goldens.tasks[name]
  it(`builds the harness's prompts (${golden.source})`, async () => {
    const task = getTask(name)
    const docs = await task.loadDocs(evalSplit(task), store)
    expect(docs.length).toBe(golden.docs.length)
    docs.forEach((doc, i) => {
      const text = task.docToText(doc)
      expect(text).toBe(golden.docs[i].text)
      expect(task.docToTarget(doc)).toBe(golden.docs[i].target)
      expect(task.constructRequests(doc, text)).toEqual(golden.docs[i].requests.map(toRequest))
    })
  })
  if (golden.fewshot) {
    it(`samples ${golden.fewshot.k}-shot contexts as the evaluator does`, async () => {
      const built = await buildRequests(getTask(name), store, { numFewshot: golden.fewshot!.k })
      expect(built.map((b) => b.ctx)).toEqual(golden.fewshot!.contexts)
    })
  }
})

describe('evaluator rules', () => {
  it('refuses few-shot for zero-shot-only tasks', async () => {
    await expect(buildRequests(getTask('prost'), store, { numFewshot: 1 })).rejects.toThrow(/zero-shot only/)
    await expect(buildRequests(getTask('blimp_adjunct_island'), store, { numFewshot: 2 })).rejects.toThrow(/zero-shot only/)
  })
  it('prepends a description and keeps the first `limit` shuffled documents', async () => {
    const all = await buildRequests(getTask('cola'), store, { numFewshot: 0 })
    const one = await buildRequests(getTask('cola'), store, { numFewshot: 0, limit: 1, description: 'Judge grammar.' })
    expect(one).toHaveLength(1)
    expect(one[0].ctx).toBe(`Judge grammar.\n\n${all[0].ctx}`)
  })
})
