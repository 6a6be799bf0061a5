// Request building as the harness's evaluator does it: the evaluated split's documents shuffled
// with Random(42), the first `limit` kept, and for each a context of `description`, few-shot
// examples (doc_to_text + doc_to_target joined by blank lines, sampled with the same generator)
// and the document's own prompt; then the task's requests for that context.
import type { EvalRequest } from '../../shared/eval'
import type { EvalDataStore } from './data/store'
import { PyRandom } from './pyrandom'
import { evalSplit, type Task } from './tasks/types'

export interface BuildOptions {
  numFewshot: number
  limit?: number
  description?: string
}

export interface BuiltDoc<D> {
  docId: number
  doc: D
  ctx: string
  requests: EvalRequest[]
}

const sameDoc = (a: unknown, b: unknown): boolean => a === b || JSON.stringify(a) === JSON.stringify(b)

export async function buildRequests<D>(task: Task<D>, store: EvalDataStore, options: BuildOptions): Promise<BuiltDoc<D>[]> {
  if (task.zeroShotOnly && options.numFewshot > 0) throw new Error(`${task.name} is zero-shot only (the harness asserts num_fewshot == 0), got ${options.numFewshot}`)
  const docs = (await task.loadDocs(evalSplit(task), store)).slice()
  const rnd = new PyRandom(42)
  rnd.shuffle(docs)
  const chosen = options.limit === undefined ? docs : docs.slice(0, options.limit)
  let pool: D[] | null = null
  const fewshotPool = async (): Promise<D[]> => {
    if (pool) return pool
    if (task.splits.train) pool = task.fewshotDocs ? await task.fewshotDocs(store) : await task.loadDocs('train', store)
    else pool = await task.loadDocs(task.splits.validation ? 'validation' : 'test', store)
    return pool
  }
  const out: BuiltDoc<D>[] = []
  for (const [docId, doc] of chosen.entries()) {
    const ctx = await fewshotContext(task, doc, options.numFewshot, rnd, fewshotPool, options.description)
    out.push({ docId, doc, ctx, requests: task.constructRequests(doc, ctx) })
  }
  return out
}

export async function fewshotContext<D>(task: Task<D>, doc: D, numFewshot: number, rnd: PyRandom, pool: () => Promise<D[]>, description?: string): Promise<string> {
  const head = description ? `${description}\n\n` : ''
  let examples = ''
  if (numFewshot > 0) {
    const docs = await pool()
    const draw = task.splits.train ? numFewshot : numFewshot + 1
    if (draw > docs.length) throw new Error(`${task.name}: cannot draw ${numFewshot} few-shot examples (${draw} sampled) from a pool of ${docs.length} documents`)
    const picked = task.splits.train
      ? rnd.sample(docs, numFewshot)
      : rnd
          .sample(docs, numFewshot + 1)
          .filter((x) => !sameDoc(x, doc))
          .slice(0, numFewshot)
    examples = picked.map((ex) => task.docToText(ex) + task.docToTarget(ex)).join('\n\n') + '\n\n'
  }
  return head + examples + task.docToText(doc)
}
