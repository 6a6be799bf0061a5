// Token windows for loglikelihood_rolling, as the harness's utils.get_rolling_token_windows and
// make_disjoint_window define them: every token is predicted exactly once, the first window is
// conditioned on the prefix token (end-of-text), and later windows keep the longest context that
// fits in the model's length. The engine scores each (context, continuation) pair and sums.

export interface TokenWindow {
  context: number[]
  continuation: number[]
}

export function rollingWindows(tokens: readonly number[], prefixToken: number, maxSeqLen: number, contextLen = 1): TokenWindow[] {
  if (!(contextLen >= 1 && contextLen <= maxSeqLen)) throw new Error(`rolling windows need 1 <= contextLen <= maxSeqLen, got ${contextLen} and ${maxSeqLen}`)
  if (tokens.length === 0) return []
  const predLen = maxSeqLen - contextLen + 1
  const windows: [number[], number[]][] = []
  const first = Math.min(maxSeqLen, tokens.length)
  windows.push([[prefixToken, ...tokens.slice(0, first - 1)], tokens.slice(0, first)])
  let predicted = first
  while (predicted < tokens.length) {
    const windowPredLen = Math.min(tokens.length - predicted, predLen)
    const end = predicted + windowPredLen
    windows.push([tokens.slice(end - maxSeqLen - 1, end - 1), tokens.slice(end - windowPredLen, end)])
    predicted += windowPredLen
  }
  // make_disjoint_window: drop the inputs whose predictions are the continuation itself
  return windows.map(([a, b]) => ({ context: a.slice(0, a.length - (b.length - 1)), continuation: b }))
}

/** The harness's loglikelihood input: context + continuation, left-truncated to maxSeqLen + 1, minus the last token. */
export function loglikelihoodInput(context: readonly number[], continuation: readonly number[], maxSeqLen: number): { input: number[]; scoreFrom: number } {
  if (continuation.length === 0) throw new Error('a loglikelihood request needs a non-empty continuation')
  if (continuation.length > maxSeqLen) throw new Error(`continuation of ${continuation.length} tokens exceeds the model's ${maxSeqLen}-token context`)
  const all = [...context, ...continuation]
  const input = all.slice(Math.max(0, all.length - (maxSeqLen + 1))).slice(0, -1)
  // logits at positions [input.length - continuation.length, input.length) predict the continuation
  return { input, scoreFrom: input.length - continuation.length }
}
