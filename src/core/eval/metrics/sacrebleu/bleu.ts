// BLEU as sacrebleu 1.5.0's corpus_bleu computes it: 13a tokenisation (or none), n-grams 1..4
// clipped by the maximum count over references, closest reference length (ties to the shorter),
// 'exp' smoothing by default (mteval-v13a), log(0) as -9999999999, score on a 0..100 scale.
// sacrebleu 1.5 has no early return for zero matches (added later, sacrebleu #141): kept so.
import { tokenize13a } from './tokenizer13a'

const MAX_ORDER = 4

export type SmoothMethod = 'exp' | 'floor' | 'add-k' | 'none'

export interface BleuOptions {
  smoothMethod?: SmoothMethod
  smoothValue?: number
  tokenize?: '13a' | 'none'
  lowercase?: boolean
  useEffectiveOrder?: boolean
}

export interface BleuScore {
  score: number
  counts: number[]
  totals: number[]
  precisions: number[]
  bp: number
  sysLen: number
  refLen: number
}

const SMOOTH_DEFAULTS: Record<SmoothMethod, number | undefined> = { none: undefined, floor: 0.1, 'add-k': 1, exp: undefined }

const myLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x))

function ngrams(tokens: string[]): Map<string, number> {
  const out = new Map<string, number>()
  for (let n = 1; n <= MAX_ORDER; n++) {
    for (let i = 0; i + n <= tokens.length; i++) {
      const key = `${n}\u0001${tokens.slice(i, i + n).join('\u0000')}`
      out.set(key, (out.get(key) ?? 0) + 1)
    }
  }
  return out
}

export function computeBleu(correctIn: number[], totalIn: number[], sysLen: number, refLen: number, smoothMethod: SmoothMethod = 'none', smoothValueIn?: number, useEffectiveOrder = false): BleuScore {
  const correct = correctIn.slice()
  const total = totalIn.slice()
  const smoothValue = smoothValueIn ?? SMOOTH_DEFAULTS[smoothMethod] ?? 0
  const precisions = new Array<number>(MAX_ORDER).fill(0)
  let smoothMteval = 1
  let effectiveOrder = MAX_ORDER
  for (let n = 1; n <= MAX_ORDER; n++) {
    if (smoothMethod === 'add-k' && n > 1) {
      correct[n - 1] += smoothValue
      total[n - 1] += smoothValue
    }
    if (total[n - 1] === 0) break
    if (useEffectiveOrder) effectiveOrder = n
    if (correct[n - 1] === 0) {
      if (smoothMethod === 'exp') {
        smoothMteval *= 2
        precisions[n - 1] = 100 / (smoothMteval * total[n - 1])
      } else if (smoothMethod === 'floor') {
        precisions[n - 1] = (100 * smoothValue) / total[n - 1]
      }
    } else {
      precisions[n - 1] = (100 * correct[n - 1]) / total[n - 1]
    }
  }
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1
  let logSum = 0
  for (const p of precisions.slice(0, effectiveOrder)) logSum += myLog(p)
  const score = bp * Math.exp(logSum / effectiveOrder)
  return { score, counts: correct, totals: total, precisions, bp, sysLen, refLen }
}

/** corpus_bleu(sys_stream, ref_streams): ref_streams[k][i] is the k-th reference of sentence i. */
export function corpusBleu(hypotheses: readonly string[], refStreams: readonly (readonly string[])[], options: BleuOptions = {}): BleuScore {
  for (const refs of refStreams) {
    if (refs.length !== hypotheses.length) throw new Error(`BLEU: ${hypotheses.length} hypotheses but a reference stream of ${refs.length}`)
  }
  const tok = options.tokenize === 'none' ? (s: string) => s : tokenize13a
  const prep = (s: string): string => tok(options.lowercase ? s.trimEnd().toLowerCase() : s.trimEnd())
  let sysLen = 0
  let refLen = 0
  const correct = new Array<number>(MAX_ORDER).fill(0)
  const total = new Array<number>(MAX_ORDER).fill(0)
  for (let i = 0; i < hypotheses.length; i++) {
    const hypTokens = splitTokens(prep(hypotheses[i]))
    const refTokenLists = refStreams.map((refs) => splitTokens(prep(refs[i])))
    // closest reference length; ties go to the shorter
    let closestDiff = -1
    let closestLen = -1
    for (const r of refTokenLists) {
      const diff = Math.abs(hypTokens.length - r.length)
      if (closestDiff === -1 || diff < closestDiff) {
        closestDiff = diff
        closestLen = r.length
      } else if (diff === closestDiff && r.length < closestLen) closestLen = r.length
    }
    sysLen += hypTokens.length
    refLen += closestLen
    const refMax = new Map<string, number>()
    for (const r of refTokenLists) for (const [k, c] of ngrams(r)) refMax.set(k, Math.max(refMax.get(k) ?? 0, c))
    for (const [k, c] of ngrams(hypTokens)) {
      const n = Number(k.slice(0, k.indexOf('\u0001')))
      total[n - 1] += c
      correct[n - 1] += Math.min(c, refMax.get(k) ?? 0)
    }
  }
  return computeBleu(correct, total, sysLen, refLen, options.smoothMethod ?? 'exp', options.smoothValue, options.useEffectiveOrder ?? false)
}

function splitTokens(s: string): string[] {
  return s.split(/\s+/).filter(Boolean)
}
