// A seeded PRNG whose whole state is one 32-bit number, so trainer state can save and restore it
// and a resumed run draws the same batches it would have drawn.
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0
  }

  /** Uniform in [0, 1). mulberry32. */
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
