// The harness's plain aggregations and their standard errors (lm_eval/metrics.py): mean,
// sample standard deviation, mean_stderr = sample std / sqrt(n), perplexity = exp(-mean(ll)),
// and its "median" (the middle element of the list as given, not sorted: kept as the harness has it).

export function mean(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('mean of an empty list: the task produced no documents')
  let s = 0
  for (const x of xs) s += x
  return s / xs.length
}

export function sampleStddev(xs: readonly number[]): number {
  if (xs.length < 2) return Number.NaN
  const mu = mean(xs)
  let s = 0
  for (const x of xs) s += (x - mu) ** 2
  return Math.sqrt(s / (xs.length - 1))
}

export function meanStderr(xs: readonly number[]): number {
  return sampleStddev(xs) / Math.sqrt(xs.length)
}

export function perplexity(logLikelihoods: readonly number[]): number {
  return Math.exp(-mean(logLikelihoods))
}

export function harnessMedian(xs: readonly number[]): number {
  return xs[Math.floor(xs.length / 2)]
}
