// Python's `random.Random` (MT19937 seeded by init_by_array, random(), getrandbits, _randbelow,
// shuffle, sample, choices), bit for bit: the harness shuffles documents with Random(42), samples
// few-shot examples with the same generator and bootstraps with Random(chunk index), so matching
// its numbers means matching its generator.
const N = 624
const M = 397

export class PyRandom {
  private readonly mt = new Uint32Array(N)
  private mti = N + 1

  constructor(seed: number) {
    this.seed(seed)
  }

  /** random.seed(int): the absolute value split into 32-bit words, least significant first. */
  seed(seed: number): void {
    if (!Number.isSafeInteger(seed)) throw new Error(`PyRandom seed must be a safe integer, got ${seed}`)
    let n = Math.abs(seed)
    const key: number[] = []
    while (n > 0) {
      key.push(n % 0x1_0000_0000)
      n = Math.floor(n / 0x1_0000_0000)
    }
    if (key.length === 0) key.push(0)
    this.initByArray(key)
  }

  private initGenrand(s: number): void {
    const mt = this.mt
    mt[0] = s >>> 0
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0
    }
    this.mti = N
  }

  private initByArray(key: number[]): void {
    const mt = this.mt
    this.initGenrand(19650218)
    let i = 1
    let j = 0
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = ((mt[i] ^ Math.imul(prev, 1664525)) + key[j] + j) >>> 0
      i++
      j++
      if (i >= N) {
        mt[0] = mt[N - 1]
        i = 1
      }
      if (j >= key.length) j = 0
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30)
      mt[i] = ((mt[i] ^ Math.imul(prev, 1566083941)) - i) >>> 0
      i++
      if (i >= N) {
        mt[0] = mt[N - 1]
        i = 1
      }
    }
    mt[0] = 0x80000000
  }

  /** genrand_uint32 */
  uint32(): number {
    const mt = this.mt
    if (this.mti >= N) {
      let kk = 0
      for (; kk < N - M; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff)
        mt[kk] = mt[kk + M] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      for (; kk < N - 1; kk++) {
        const y = (mt[kk] & 0x80000000) | (mt[kk + 1] & 0x7fffffff)
        mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      }
      const y = (mt[N - 1] & 0x80000000) | (mt[0] & 0x7fffffff)
      mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)
      this.mti = 0
    }
    let y = mt[this.mti++]
    y ^= y >>> 11
    y ^= (y << 7) & 0x9d2c5680
    y ^= (y << 15) & 0xefc60000
    y ^= y >>> 18
    return y >>> 0
  }

  /** random(): 53-bit float in [0, 1). */
  random(): number {
    const a = this.uint32() >>> 5
    const b = this.uint32() >>> 6
    return (a * 67108864 + b) / 9007199254740992
  }

  /** getrandbits(k) for 1 <= k <= 32 (all the harness needs: list sizes). */
  getrandbits(k: number): number {
    if (k < 1 || k > 32) throw new Error(`getrandbits supports 1..32 bits, got ${k}`)
    return this.uint32() >>> (32 - k)
  }

  /** _randbelow_with_getrandbits */
  randbelow(n: number): number {
    if (n <= 0) throw new Error('randbelow needs n > 0')
    const k = bitLength(n)
    let r = this.getrandbits(k)
    while (r >= n) r = this.getrandbits(k)
    return r
  }

  /** In-place Fisher-Yates from the end, as random.shuffle. */
  shuffle<T>(x: T[]): void {
    for (let i = x.length - 1; i > 0; i--) {
      const j = this.randbelow(i + 1)
      const t = x[i]
      x[i] = x[j]
      x[j] = t
    }
  }

  /** random.sample(population, k), including its switch between a pool and a selected-set. */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length
    if (k < 0 || k > n) throw new Error(`Sample larger than population or is negative (k=${k}, n=${n})`)
    const result: T[] = new Array(k)
    let setsize = 21
    if (k > 5) setsize += 4 ** Math.ceil(Math.log(k * 3) / Math.log(4))
    if (n <= setsize) {
      const pool = population.slice()
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i)
        result[i] = pool[j]
        pool[j] = pool[n - i - 1]
      }
    } else {
      const selected = new Set<number>()
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n)
        while (selected.has(j)) j = this.randbelow(n)
        selected.add(j)
        result[i] = population[j]
      }
    }
    return result
  }

  /** random.choices(population, k=k) without weights: floor(random() * n) each. */
  choices<T>(population: readonly T[], k: number): T[] {
    const n = population.length
    const out: T[] = new Array(k)
    for (let i = 0; i < k; i++) out[i] = population[Math.floor(this.random() * n)]
    return out
  }
}

function bitLength(n: number): number {
  if (n >= 0x1_0000_0000) throw new Error(`randbelow supports n < 2^32, got ${n}`)
  return 32 - Math.clz32(n)
}
