// TER as sacrebleu 1.5.0's corpus_ter computes it (Ales Tamchyna's Tercom port): case-insensitive
// whitespace tokens by default; greedy block shifts (up to 10 words, within 50 positions, at most
// 1000 candidates) while they lower a beam-limited edit distance (beam 25 around the length-ratio
// diagonal); score = (shifts + edits) / reference words summed over the corpus, on a 0..1 scale.

const MAX_SHIFT_SIZE = 10
const MAX_SHIFT_DIST = 50
const BEAM_WIDTH = 25
const MAX_SHIFT_CANDIDATES = 1000
const INF = 1e16

type Op = 'i' | 'd' | ' ' | 's' | 'x'

export interface TerOptions {
  caseSensitive?: boolean
}

function editDistance(hyp: readonly string[], ref: readonly string[]): { distance: number; trace: string } {
  const nh = hyp.length
  const nr = ref.length
  const dist: number[][] = []
  const ops: Op[][] = []
  dist.push(Array.from({ length: nr + 1 }, (_, j) => j))
  ops.push(Array.from({ length: nr + 1 }, () => 'i' as Op))
  for (let i = 1; i <= nh; i++) {
    dist.push(new Array<number>(nr + 1).fill(INF))
    ops.push(new Array<Op>(nr + 1).fill('x'))
  }
  const lengthRatio = nh > 0 ? nr / nh : 1
  const beam = BEAM_WIDTH < lengthRatio / 2 ? Math.ceil(lengthRatio / 2 + BEAM_WIDTH) : BEAM_WIDTH
  for (let i = 1; i <= nh; i++) {
    const diag = Math.floor(i * lengthRatio)
    const minJ = Math.max(0, diag - beam)
    const maxJ = i === nh ? nr + 1 : Math.min(nr + 1, diag + beam)
    for (let j = minJ; j < maxJ; j++) {
      if (j === 0) {
        dist[i][j] = dist[i - 1][j] + 1
        ops[i][j] = 'd'
        continue
      }
      const same = hyp[i - 1] === ref[j - 1]
      // Tercom's preference (no-op/sub, then the flipped insertion/deletion order)
      const candidates: [number, Op][] = [
        [dist[i - 1][j - 1] + (same ? 0 : 1), same ? ' ' : 's'],
        [dist[i - 1][j] + 1, 'd'],
        [dist[i][j - 1] + 1, 'i']
      ]
      for (const [c, op] of candidates) {
        if (dist[i][j] > c) {
          dist[i][j] = c
          ops[i][j] = op
        }
      }
    }
  }
  let trace = ''
  let i = nh
  let j = nr
  while (i > 0 || j > 0) {
    const op = ops[i][j]
    trace = op + trace
    if (op === ' ' || op === 's') {
      i--
      j--
    } else if (op === 'i') j--
    else if (op === 'd') i--
    else throw new Error(`TER: undefined edit operation at ${i},${j}`)
  }
  return { distance: dist[nh][nr], trace }
}

function traceToAlignment(trace: string): { align: Map<number, number>; refErr: number[]; hypErr: number[] } {
  let posHyp = -1
  let posRef = -1
  const hypErr: number[] = []
  const refErr: number[] = []
  const align = new Map<number, number>()
  for (const op of trace) {
    if (op === ' ' || op === 's') {
      posHyp++
      posRef++
      align.set(posRef, posHyp)
      const err = op === 's' ? 1 : 0
      hypErr.push(err)
      refErr.push(err)
    } else if (op === 'i') {
      posHyp++
      hypErr.push(1)
    } else if (op === 'd') {
      posRef++
      align.set(posRef, posHyp)
      refErr.push(1)
    }
  }
  return { align, refErr, hypErr }
}

function* shiftedPairs(h: readonly string[], r: readonly string[]): Generator<[number, number, number]> {
  for (let sh = 0; sh < h.length; sh++) {
    for (let sr = 0; sr < r.length; sr++) {
      if (Math.abs(sr - sh) > MAX_SHIFT_DIST) continue
      let length = 0
      while (h[sh + length] === r[sr + length] && length < MAX_SHIFT_SIZE) {
        length++
        yield [sh, sr, length]
        if (h.length === sh + length || r.length === sr + length) break
      }
    }
  }
}

function performShift(words: readonly string[], start: number, length: number, target: number): string[] {
  if (target < start) return [...words.slice(0, target), ...words.slice(start, start + length), ...words.slice(target, start), ...words.slice(start + length)]
  if (target > start + length) return [...words.slice(0, start), ...words.slice(start + length, target), ...words.slice(start, start + length), ...words.slice(target)]
  return [...words.slice(0, start), ...words.slice(start + length, length + target), ...words.slice(start, start + length), ...words.slice(length + target)]
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0)

/** One greedy step: the best shift as (gain, shifted words), and the updated candidate count. */
function bestShift(h: string[], r: readonly string[], checkedIn: number): { gain: number; words: string[]; checked: number } {
  const { distance: preScore, trace: invTrace } = editDistance(h, r)
  const trace = invTrace.replace(/[id]/g, (c) => (c === 'i' ? 'd' : 'i'))
  const { align, refErr, hypErr } = traceToAlignment(trace)
  let checked = checkedIn
  let best: { gain: number; length: number; negStart: number; negIdx: number; words: string[] } | null = null
  for (const [sh, sr, length] of shiftedPairs(h, r)) {
    if (sum(hypErr.slice(sh, sh + length)) === 0) continue
    if (sum(refErr.slice(sr, sr + length)) === 0) continue
    const alignedStart = align.get(sr)
    if (alignedStart !== undefined && sh <= alignedStart && alignedStart < sh + length) continue
    let prevIdx = -1
    for (let offset = -1; offset < length; offset++) {
      let idx: number
      if (sr + offset === -1) idx = 0
      else if (align.has(sr + offset)) idx = align.get(sr + offset)! + 1
      else break
      if (idx === prevIdx) continue
      prevIdx = idx
      const words = performShift(h, sh, length, idx)
      const cand = { gain: preScore - editDistance(words, r).distance, length, negStart: -sh, negIdx: -idx, words }
      checked++
      if (!best || compareCandidates(cand, best) > 0) best = cand
    }
    if (checked >= MAX_SHIFT_CANDIDATES) break
  }
  return best ? { gain: best.gain, words: best.words, checked } : { gain: 0, words: h, checked }
}

type Candidate = { gain: number; length: number; negStart: number; negIdx: number; words: string[] }

/** Python tuple ordering of (gain, length, -start, -idx, words). */
function compareCandidates(a: Candidate, b: Candidate): number {
  for (const k of ['gain', 'length', 'negStart', 'negIdx'] as const) if (a[k] !== b[k]) return a[k] - b[k]
  for (let i = 0; i < Math.min(a.words.length, b.words.length); i++) if (a.words[i] !== b.words[i]) return a.words[i] < b.words[i] ? -1 : 1
  return a.words.length - b.words.length
}

/** (number of edits, reference length) for one segment. */
export function translationEditRate(hyp: readonly string[], ref: readonly string[]): { edits: number; refLength: number } {
  if (ref.length === 0) return { edits: hyp.length, refLength: 0 }
  let words = hyp.slice()
  let shifts = 0
  let checked = 0
  for (;;) {
    const step = bestShift(words, ref, checked)
    checked = step.checked
    if (checked >= MAX_SHIFT_CANDIDATES) break
    if (step.gain <= 0) break
    shifts++
    words = step.words
  }
  return { edits: shifts + editDistance(words, ref).distance, refLength: ref.length }
}

function terTokens(s: string, caseSensitive: boolean): string[] {
  const t = caseSensitive ? s : s.toLowerCase()
  return t.split(/\s+/).filter(Boolean)
}

/** corpus_ter(hypotheses, [references]) with one reference stream. */
export function corpusTer(hypotheses: readonly string[], refStreams: readonly (readonly string[])[], options: TerOptions = {}): number {
  const refs = refStreams[0]
  if (!refs || refs.length !== hypotheses.length) throw new Error(`TER: ${hypotheses.length} hypotheses but ${refs?.length ?? 0} references`)
  let edits = 0
  let refLength = 0
  hypotheses.forEach((h, i) => {
    const r = translationEditRate(terTokens(h, options.caseSensitive ?? false), terTokens(refs[i], options.caseSensitive ?? false))
    edits += r.edits
    refLength += r.refLength
  })
  // sacrebleu 1.x's TERScore: 1 when the references are empty, whatever the edits
  return refLength > 0 ? edits / refLength : 1
}
