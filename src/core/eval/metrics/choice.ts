// Multiple-choice scoring as the harness's MultipleChoiceTask: acc = argmax of summed
// log-likelihoods is gold; acc_norm = argmax of log-likelihood divided by the character length
// of the choice text (without the leading space the request adds). np.argmax takes the first max.

export function argmax(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('argmax of an empty list')
  let best = 0
  for (let i = 1; i < xs.length; i++) if (xs[i] > xs[best]) best = i
  return best
}

/** Python's len(str): code points, not UTF-16 units. */
export function pyLen(s: string): number {
  let n = 0
  for (const _ of s) n++
  return n
}

export function multipleChoiceScores(logLikelihoods: readonly number[], choices: readonly string[], gold: number): { acc: number; acc_norm: number } {
  if (logLikelihoods.length !== choices.length) throw new Error(`got ${logLikelihoods.length} log-likelihoods for ${choices.length} choices`)
  const normalised = logLikelihoods.map((ll, i) => ll / pyLen(choices[i]))
  return { acc: argmax(logLikelihoods) === gold ? 1 : 0, acc_norm: argmax(normalised) === gold ? 1 : 0 }
}
