// The harness's bootstrap standard error (lm_eval/metrics.py bootstrap_stderr): resamples in
// chunks of min(1000, iters); chunk i draws with Python's Random(i) via rnd.choices(xs, k=len(xs));
// the result is the sample standard deviation of all resampled metric values. Same seeds and the
// same generator give the harness's numbers exactly (its process pool only parallelises chunks).
import { PyRandom } from '../pyrandom'
import { sampleStddev } from './aggregate'

export function bootstrapStderr<T>(metric: (xs: T[]) => number, xs: readonly T[], iters: number): number {
  if (xs.length === 0) return Number.NaN
  const chunk = Math.min(1000, iters)
  const values: number[] = []
  for (let i = 0; i < Math.floor(iters / chunk); i++) {
    const rnd = new PyRandom(i)
    for (let j = 0; j < chunk; j++) values.push(metric(rnd.choices(xs, xs.length)))
  }
  return sampleStddev(values)
}
