// The harness's log-likelihood requests as token items, the same for every engine's adapter
// (gpt-model.ts on the embedded GPT, torch-model.ts on the PyTorch model servers): GPT-2 BPE,
// context and continuation encoded separately, an empty context replaced by end-of-text, inputs
// left-truncated to the model's context, rolling log-likelihood over disjoint windows, and
// identical items scored once. Each adapter passes its own `score` for the unique items.
import type { LoglikelihoodRequest, LoglikelihoodResult, LoglikelihoodRollingRequest } from '../../../shared/eval'
import { END_OF_TEXT, encodeText } from '../../data/gpt2-tokenizer'
import { loglikelihoodInput, rollingWindows } from '../rolling'

export interface TokenItem {
  /** Model input (already left-truncated to the context); its last `continuation.length` positions predict the continuation. */
  input: readonly number[]
  continuation: readonly number[]
}

export type ScoreItems = (unique: TokenItem[]) => Promise<LoglikelihoodResult[]>

export function loglikelihood(requests: readonly LoglikelihoodRequest[], maxLength: number, score: ScoreItems): Promise<LoglikelihoodResult[]> {
  const items = requests.map((r) => {
    const context = r.context === '' ? [END_OF_TEXT] : encodeText(r.context)
    const continuation = encodeText(r.continuation)
    return { input: loglikelihoodInput(context, continuation, maxLength).input, continuation }
  })
  return scoreUnique(items, score)
}

export async function loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[], maxLength: number, score: ScoreItems): Promise<number[]> {
  const perText = requests.map((r) =>
    rollingWindows(encodeText(r.text), END_OF_TEXT, maxLength, 1).map((w) => ({ input: loglikelihoodInput(w.context, w.continuation, maxLength).input, continuation: w.continuation }))
  )
  const scores = await scoreUnique(perText.flat(), score)
  let at = 0
  return perText.map((windows) => {
    let sum = 0
    for (let k = 0; k < windows.length; k++) sum += scores[at++].logprob
    return sum
  })
}

/** Scores each distinct item once and answers every item, in order. */
async function scoreUnique(items: TokenItem[], score: ScoreItems): Promise<LoglikelihoodResult[]> {
  const index = new Map<string, number>()
  const unique: TokenItem[] = []
  const slot = items.map((x) => {
    const k = `${x.input.join(',')}|${x.continuation.join(',')}`
    let i = index.get(k)
    if (i === undefined) {
      index.set(k, (i = unique.length))
      unique.push(x)
    }
    return i
  })
  const scores = await score(unique)
  return slot.map((i) => ({ ...scores[i] }))
}
