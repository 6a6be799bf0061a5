// The one PRNG: its numbers are pinned to what the two former copies (engine/rng.ts's Rng and
// tokenize.ts's mulberry32) produced, because resumed runs and prepared datasets depend on them.
import { describe, expect, it } from 'vitest'
import { MinHasher } from '../src/core/data/pipeline/minhash'
import { Rng, mulberry32 } from '../src/core/rng'

// First draws per seed and the state after five, printed by the former implementations.
const PINNED: [number, number[], number][] = [
  [0, [0.26642920868471265, 0.0003297457005828619, 0.2232720274478197, 0.1462021479383111, 0.46732782293111086], 567894473],
  [1, [0.6270739405881613, 0.002735721180215478, 0.5274470399599522, 0.9810509674716741, 0.9683778982143849], 567894474],
  [1234, [0.07329497812315822, 0.7034119898453355, 0.9028560190927237, 0.9705493662040681, 0.04096397617831826], 567895707],
  [0xffffffff, [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677, 0.8452364315744489], 567894472],
  [-1, [0.8964226141106337, 0.189478256739676, 0.7156526781618595, 0.9440599093213677, 0.8452364315744489], 567894472],
  [2 ** 32 + 5, [0.6897749109193683, 0.7727432732935995, 0.21976301027461886, 0.6231788222212344, 0.08513720124028623], 567894478]
]

describe('rng', () => {
  it.each(PINNED)('seed %d draws the same numbers as before, as a class and as a function', (seed, first, state) => {
    const rng = new Rng(seed)
    expect(Array.from({ length: 5 }, () => rng.next())).toEqual(first)
    expect(rng.state).toBe(state)
    const draw = mulberry32(seed)
    expect(Array.from({ length: 5 }, () => draw())).toEqual(first)
  })

  it('resumes from a saved state with the same sequence', () => {
    const a = new Rng(99)
    for (let i = 0; i < 10; i++) a.next()
    const b = new Rng(a.state)
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(Array.from({ length: 20 }, () => a.next()))
  })

  it('keeps integer draws, dataset shuffles and MinHash seeds as before', () => {
    const rng = new Rng(7)
    expect(Array.from({ length: 8 }, () => rng.int(1000))).toEqual([11, 61, 976, 699, 521, 405, 466, 239])
    // The prepare output stage's Fisher-Yates shuffle with shuffleSeed 42.
    const docs = Array.from({ length: 20 }, (_, i) => i)
    const random = mulberry32(42)
    for (let i = docs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[docs[i], docs[j]] = [docs[j], docs[i]]
    }
    expect(docs).toEqual([13, 0, 19, 4, 6, 1, 9, 16, 14, 17, 5, 10, 18, 3, 7, 2, 11, 15, 8, 12])
    expect(Array.from(new MinHasher(4, 1234).seeds)).toEqual([314799534, 3021131492, 3877737075, 4168477787])
  })
})
