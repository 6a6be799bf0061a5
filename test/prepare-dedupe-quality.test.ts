// Near-duplicate detection quality on planted pairs of known Jaccard similarity (measured here
// with a plain set-of-substrings implementation, not the pipeline's hashed one): recall for
// pairs at or above the grouping threshold, precision of what was removed. Megatron's settings
// (100 seeds, 10 bands of 10 rows) catch nearly all pairs above 0.9 but only some near 0.7;
// 20 bands of 5 rows catch those too. The numbers are printed for the record.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { PrepareConfig } from '../src/shared/config/prepare'
import { inlineContext } from '../src/core/job-context'
import { mulberry32 } from '../src/core/rng'
import { runPipeline } from '../src/core/data/pipeline/runner'
import { mobyChapter } from './fixtures/webtext-corpus'
import { trueJaccard } from './fixtures/jaccard'
import { tempDir } from './helpers'

interface Pair {
  base: string
  copy: string
  jaccard: number
}

const DOC_CHARS = 3000

/** Copies of real text with a share of words replaced, spanning similarities from ~0.2 to ~0.97. */
function plantPairs(): { docs: { text: string; url: string }[]; pairs: Pair[] } {
  const random = mulberry32(7)
  const words = mobyChapter(100).paragraphs.join(' ').split(/\s+/)
  const docs: { text: string; url: string }[] = []
  const pairs: Pair[] = []
  let k = 0
  for (let chapter = 1; chapter <= 120 && pairs.length < 100; chapter++) {
    const text = mobyChapter(chapter).paragraphs.join('\n\n')
    for (let start = 0; start + DOC_CHARS <= text.length && pairs.length < 100; start += DOC_CHARS) {
      const base = text.slice(start, start + DOC_CHARS)
      const share = [0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.13, 0.17, 0.25, 0.4][k % 10]
      const copy = base
        .split(' ')
        .map((w) => (random() < share ? words[Math.floor(random() * words.length)] : w))
        .join(' ')
      const id = String(k++).padStart(3, '0')
      docs.push({ text: base, url: `https://planted.example/${id}/a` }, { text: copy, url: `https://planted.example/${id}/b` })
      pairs.push({ base: `https://planted.example/${id}/a`, copy: `https://planted.example/${id}/b`, jaccard: trueJaccard(base, copy) })
    }
  }
  return { docs, pairs }
}

let planted: ReturnType<typeof plantPairs>
let input: string

beforeAll(() => {
  planted = plantPairs()
  input = path.join(tempDir(), 'planted.jsonl')
  fs.writeFileSync(input, planted.docs.map((d) => JSON.stringify(d)).join('\n') + '\n')
})

async function removedWith(bands: number): Promise<Map<string, string>> {
  const dir = path.join(tempDir(), 'ds')
  const config = PrepareConfig.parse({ sources: { jsonFiles: [input] }, clean: { languages: [], minTokens: 0 }, dedupe: { bands }, output: { tokenize: false } })
  await runPipeline(config, dir, inlineContext())
  const drops = fs
    .readFileSync(path.join(dir, 'dropped', 'dedupe.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
  return new Map(drops.map((d: { url: string; detail: string }) => [d.url, /^kept (\S+)/.exec(d.detail)![1]]))
}

function score(removed: Map<string, string>, threshold: number) {
  const found = (p: Pair): boolean => removed.get(p.copy) === p.base
  const similar = planted.pairs.filter((p) => p.jaccard >= threshold)
  const buckets = [0.7, 0.8, 0.9, 0.95].map((lo, i, all) => {
    const inBucket = planted.pairs.filter((p) => p.jaccard >= lo && p.jaccard < (all[i + 1] ?? 1.01))
    return { range: `${lo}-${all[i + 1] ?? 1}`, pairs: inBucket.length, recall: inBucket.filter(found).length / Math.max(inBucket.length, 1) }
  })
  const truePositives = planted.pairs.filter(found)
  return {
    pairs: planted.pairs.length,
    similar: similar.length,
    recall: similar.filter(found).length / similar.length,
    precision: truePositives.length ? truePositives.filter((p) => p.jaccard >= threshold).length / truePositives.length : 1,
    // Anything removed that is not the planted copy of its pair is a false positive.
    unplanned: [...removed.entries()].filter(([url, kept]) => !planted.pairs.some((p) => p.copy === url && p.base === kept)).length,
    buckets
  }
}

describe('near-duplicate detection quality', () => {
  it('plants pairs across the whole range of similarity', () => {
    const js = planted.pairs.map((p) => p.jaccard)
    expect(planted.pairs.length).toBe(100)
    expect(js.filter((j) => j >= 0.9).length).toBeGreaterThan(10)
    expect(js.filter((j) => j >= 0.7 && j < 0.9).length).toBeGreaterThan(10)
    expect(js.filter((j) => j < 0.5).length).toBeGreaterThan(10)
  })

  it("with Megatron's settings: everything removed is truly similar, and pairs above 0.9 are found", async () => {
    const result = score(await removedWith(10), 0.7)
    console.log('dedupe quality, 100 seeds x 10 bands (Megatron):', JSON.stringify(result))
    expect(result.precision).toBe(1)
    expect(result.unplanned).toBe(0)
    expect(result.buckets.find((b) => b.range === '0.95-1')!.recall).toBe(1)
    expect(result.buckets.find((b) => b.range === '0.9-0.95')!.recall).toBeGreaterThanOrEqual(0.9)
  })

  it('with 20 bands of 5 rows, recall at the 0.7 threshold is near complete', async () => {
    const result = score(await removedWith(20), 0.7)
    console.log('dedupe quality, 100 seeds x 20 bands:', JSON.stringify(result))
    expect(result.precision).toBe(1)
    expect(result.unplanned).toBe(0)
    expect(result.recall).toBeGreaterThanOrEqual(0.95)
  })
})
