// Choosing the next token from one row of logits, on the host: repetition penalty, then greedy
// (temperature 0) or the seed's order: logits / temperature, top-k, top-p, a multinomial draw.
// Only the first `vocab` entries are ever considered: padded embedding rows are never produced.
import type { SamplingParams } from '../../shared/generate'
import type { Rng } from '../rng'

export type Filters = Pick<SamplingParams, 'temperature' | 'topK' | 'topP'>

/** Temperature 0 is the limit of sampling as the temperature falls: the argmax, whatever top-k / top-p say. */
export function isGreedy(f: Pick<SamplingParams, 'temperature'>): boolean {
  return f.temperature === 0
}

/**
 * CTRL / Hugging Face repetition penalty, in place: for each distinct id in `history`, a positive
 * logit is divided by `penalty` and a negative one multiplied by it.
 */
export function applyRepetitionPenalty(logits: Float32Array, history: Iterable<number>, penalty: number, vocab: number): void {
  if (penalty === 1) return
  const seen = new Set<number>()
  for (const id of history) {
    if (id < 0 || id >= vocab || seen.has(id)) continue
    seen.add(id)
    const l = logits[id]
    logits[id] = l > 0 ? l / penalty : l * penalty
  }
}

/** Index of the largest of values[0..n); the first one on ties (as torch.argmax). */
export function argmax(values: ArrayLike<number>, n = values.length): number {
  let best = 0
  for (let i = 1; i < n; i++) if (values[i] > values[best]) best = i
  return best
}

/** Indices of the k largest of values[0..n), largest first (ties: lower index first). A size-k min-heap: O(n log k). */
export function topIndices(values: ArrayLike<number>, k: number, n = values.length): number[] {
  k = Math.min(k, n)
  if (k <= 0) return []
  const heap: number[] = []
  // "a below b" in heap order: smaller value, or equal value with the larger index (it ranks lower).
  const below = (a: number, b: number): boolean => values[a] < values[b] || (values[a] === values[b] && a > b)
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < heap.length && below(heap[l], heap[m])) m = l
      if (r < heap.length && below(heap[r], heap[m])) m = r
      if (m === i) return
      ;[heap[i], heap[m]] = [heap[m], heap[i]]
      i = m
    }
  }
  for (let i = 0; i < n; i++) {
    if (heap.length < k) {
      heap.push(i)
      for (let c = heap.length - 1; c > 0;) {
        const p = (c - 1) >> 1
        if (!below(heap[c], heap[p])) break
        ;[heap[c], heap[p]] = [heap[p], heap[c]]
        c = p
      }
    } else if (below(heap[0], i)) {
      heap[0] = i
      siftDown(0)
    }
  }
  return heap.sort((a, b) => values[b] - values[a] || a - b)
}

/**
 * The distribution a sample is drawn from: softmax(logits / temperature) over the first `vocab`
 * entries, restricted to the top-k logits (all of those tied with the k-th kept, as the seed's
 * `logits < kth` rule), then to the nucleus: sorted by probability, a token is kept while the
 * probability mass before it is at most topP (so the first always is). Renormalised; filtered
 * entries are 0. Temperature must be > 0 here (greedy is decided before).
 */
export function samplingDistribution(logits: ArrayLike<number>, vocab: number, f: Filters): Float64Array {
  if (!(f.temperature > 0)) throw new Error('samplingDistribution needs a temperature above 0 (temperature 0 is greedy).')
  const probs = new Float64Array(vocab)
  let floor = -Infinity
  if (f.topK > 0 && f.topK < vocab) {
    const top = topIndices(logits, f.topK, vocab)
    floor = logits[top[top.length - 1]]
  }
  let max = -Infinity
  for (let i = 0; i < vocab; i++) if (logits[i] >= floor && logits[i] > max) max = logits[i]
  let sum = 0
  for (let i = 0; i < vocab; i++) {
    if (logits[i] < floor) continue
    const e = Math.exp((logits[i] - max) / f.temperature)
    probs[i] = e
    sum += e
  }
  for (let i = 0; i < vocab; i++) probs[i] /= sum
  if (f.topP > 0 && f.topP < 1) nucleus(probs, f.topP)
  return probs
}

/** Keeps the nucleus of `probs` in place (the seed's shifted `cumulative > top_p` rule) and renormalises. */
function nucleus(probs: Float64Array, topP: number): void {
  // Only tokens with probability >= tau can be kept once the mass at or above tau exceeds topP:
  // anything smaller has more than topP before it. Halve tau until that holds, then sort only those.
  let maxP = 0
  for (const p of probs) if (p > maxP) maxP = p
  let tau = maxP
  let candidates: number[] = []
  for (let round = 0; round < 200; round++) {
    candidates = []
    let mass = 0
    for (let i = 0; i < probs.length; i++) {
      if (probs[i] >= tau && probs[i] > 0) {
        candidates.push(i)
        mass += probs[i]
      }
    }
    if (mass > topP || tau === 0) break
    tau = tau < 1e-300 ? 0 : tau / 2
  }
  candidates.sort((a, b) => probs[b] - probs[a] || a - b)
  const keep = new Uint8Array(probs.length)
  let before = 0
  for (const i of candidates) {
    if (before > topP) break
    keep[i] = 1
    before += probs[i]
  }
  let sum = 0
  for (let i = 0; i < probs.length; i++) {
    if (!keep[i]) probs[i] = 0
    sum += probs[i]
  }
  for (let i = 0; i < probs.length; i++) probs[i] /= sum
}

/** A draw from `probs` with one uniform number from `rng`. */
export function drawFrom(probs: Float64Array, rng: Rng): number {
  const u = rng.next()
  let acc = 0
  let last = 0
  for (let i = 0; i < probs.length; i++) {
    if (probs[i] === 0) continue
    acc += probs[i]
    last = i
    if (u < acc) return i
  }
  return last // rounding left u just above the total
}

/**
 * The next token from one row of logits: the repetition penalty over `history`, OpenAI's presence
 * and frequency penalties over `counts` (each generated id's count), then the argmax or a draw.
 */
export function chooseToken(
  logits: Float32Array,
  vocab: number,
  params: Filters & Pick<SamplingParams, 'repetitionPenalty'> & { presencePenalty?: number; frequencyPenalty?: number },
  history: Iterable<number>,
  rng: Rng,
  counts?: ReadonlyMap<number, number>
): number {
  const presence = params.presencePenalty ?? 0
  const frequency = params.frequencyPenalty ?? 0
  let row = logits
  if (params.repetitionPenalty !== 1 || (counts && (presence !== 0 || frequency !== 0))) {
    row = logits.slice(0, vocab)
    applyRepetitionPenalty(row, history, params.repetitionPenalty, vocab)
    if (counts) for (const [id, n] of counts) if (id < vocab) row[id] -= presence + n * frequency
  }
  if (isGreedy(params)) return argmax(row, vocab)
  return drawFrom(samplingDistribution(row, vocab, params), rng)
}

/** log softmax of the raw logits over the real vocabulary at `id`, and the `k` likeliest (the API's logprobs). */
export function tokenLogprob(logits: ArrayLike<number>, vocab: number, id: number, k: number): { id: number; logprob: number; top: { id: number; logprob: number }[] } {
  let max = -Infinity
  for (let i = 0; i < vocab; i++) if (logits[i] > max) max = logits[i]
  let sum = 0
  for (let i = 0; i < vocab; i++) sum += Math.exp(logits[i] - max)
  const lse = max + Math.log(sum)
  return { id, logprob: logits[id] - lse, top: k > 0 ? topIndices(logits, k, vocab).map((i) => ({ id: i, logprob: logits[i] - lse })) : [] }
}
