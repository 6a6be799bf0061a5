// The one seeded PRNG (mulberry32) for everything that must repeat: training batches, sampling,
// dataset splits and shuffles, MinHash seeds. Its whole state is one 32-bit number, so trainer
// state saves and restores it and a resumed run draws the same batches it would have drawn.
// The sequence for a seed must never change: saved runs and prepared datasets depend on it.
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
}

/** The same generator as a plain function, for callers that only draw numbers. */
export function mulberry32(seed: number): () => number {
  const rng = new Rng(seed)
  return () => rng.next()
}
