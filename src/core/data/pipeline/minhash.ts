// MinHash over character shingles with LSH banding, with Megatron's find_duplicates settings as
// defaults (100 seeds from seed 1234, 5-character shingles, 10 bands). Shingles are hashed once
// with a rolling hash; each seed's permutation is murmur3's 32-bit finaliser over the shingle
// hash xor the seed.
import { mulberry32 } from '../../rng'

function fmix32(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

const BASE = 0x01000193

/** The distinct hashes of the text's `k`-character shingles, sorted (a text shorter than k is one shingle). */
export function shingleSet(text: string, k: number): Uint32Array {
  const n = text.length
  if (n === 0) return new Uint32Array(0)
  if (n <= k) {
    let h = 0
    for (let i = 0; i < n; i++) h = (Math.imul(h, BASE) + text.charCodeAt(i)) >>> 0
    return Uint32Array.of(fmix32(h))
  }
  let top = 1 // BASE^(k-1), to take the outgoing character off the rolling hash
  for (let i = 1; i < k; i++) top = Math.imul(top, BASE)
  const out = new Uint32Array(n - k + 1)
  let h = 0
  for (let i = 0; i < k; i++) h = (Math.imul(h, BASE) + text.charCodeAt(i)) >>> 0
  out[0] = fmix32(h)
  for (let i = k; i < n; i++) {
    h = (Math.imul(h - Math.imul(text.charCodeAt(i - k), top), BASE) + text.charCodeAt(i)) >>> 0
    out[i - k + 1] = fmix32(h)
  }
  out.sort()
  let w = 1
  for (let r = 1; r < out.length; r++) if (out[r] !== out[w - 1]) out[w++] = out[r]
  return out.slice(0, w)
}

/** Jaccard similarity of two sorted, distinct hash sets. */
export function jaccard(a: Uint32Array, b: Uint32Array): number {
  if (!a.length && !b.length) return 1
  let i = 0
  let j = 0
  let both = 0
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      both++
      i++
      j++
    } else if (a[i] < b[j]) i++
    else j++
  }
  return both / (a.length + b.length - both)
}

export class MinHasher {
  readonly seeds: Uint32Array

  constructor(
    readonly numSeeds: number,
    seed: number
  ) {
    const random = mulberry32(seed)
    this.seeds = Uint32Array.from({ length: numSeeds }, () => Math.floor(random() * 2 ** 32) >>> 0)
  }

  /** Writes the signature of a shingle set into `out` (numSeeds values). */
  signature(shingles: Uint32Array, out: Uint32Array = new Uint32Array(this.numSeeds)): Uint32Array {
    out.fill(0xffffffff)
    const seeds = this.seeds
    for (let s = 0; s < shingles.length; s++) {
      const x = shingles[s]
      for (let i = 0; i < seeds.length; i++) {
        const v = fmix32(x ^ seeds[i])
        if (v < out[i]) out[i] = v
      }
    }
    return out
  }
}

/** LSH: documents whose signatures agree on every row of some band land in the same bucket. */
export class LshIndex {
  private readonly buckets: Map<string, number[]>[]
  private readonly rows: number

  constructor(
    readonly bands: number,
    numSeeds: number
  ) {
    this.rows = numSeeds / bands
    this.buckets = Array.from({ length: bands }, () => new Map())
  }

  add(doc: number, signature: Uint32Array): void {
    for (let b = 0; b < this.bands; b++) {
      let h1 = 0x811c9dc5
      let h2 = b + 1
      for (let r = b * this.rows; r < (b + 1) * this.rows; r++) {
        h1 = Math.imul(h1 ^ signature[r], 0x01000193) >>> 0
        h2 = fmix32(h2 ^ signature[r])
      }
      const key = `${h1.toString(36)}.${h2.toString(36)}`
      const bucket = this.buckets[b].get(key)
      if (bucket) bucket.push(doc)
      else this.buckets[b].set(key, [doc])
    }
  }

  /**
   * Calls `visit` once for each distinct pair sharing a bucket. A huge bucket (boilerplate shared
   * by very many pages) is paired to its first member only, to stay linear.
   */
  candidatePairs(visit: (a: number, b: number) => void, maxBucketPairs = 200): number {
    const seen = new Set<number>()
    let count = 0
    const pair = (a: number, b: number): void => {
      const lo = Math.min(a, b)
      const hi = Math.max(a, b)
      const key = lo * 0x4000000 + hi // exact below 2^26 documents
      if (seen.has(key)) return
      seen.add(key)
      count++
      visit(lo, hi)
    }
    for (const band of this.buckets) {
      for (const docs of band.values()) {
        if (docs.length < 2) continue
        if (docs.length > maxBucketPairs) for (let i = 1; i < docs.length; i++) pair(docs[0], docs[i])
        else for (let i = 0; i < docs.length; i++) for (let j = i + 1; j < docs.length; j++) pair(docs[i], docs[j])
      }
    }
    return count
  }
}

/** Union-find over document numbers, for grouping similar pairs. */
export class DisjointSets {
  private readonly parent: Int32Array

  constructor(size: number) {
    this.parent = Int32Array.from({ length: size }, (_, i) => i)
  }

  find(x: number): number {
    while (this.parent[x] !== x) {
      this.parent[x] = this.parent[this.parent[x]]
      x = this.parent[x]
    }
    return x
  }

  union(a: number, b: number): void {
    const ra = this.find(a)
    const rb = this.find(b)
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb)
  }
}
