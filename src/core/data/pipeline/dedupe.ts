// Stage 6, dedupe (Megatron's find_duplicates + group_duplicate_urls + remove_group_duplicates):
// exact duplicates by a hash of the whitespace-normalised text, then near-duplicates by MinHash
// and LSH: candidate pairs from shared buckets, their real Jaccard similarity over shingles,
// groups of documents similar at >= groupJaccard, one kept per group (the smallest URL, so the
// choice does not depend on download order). Writes dedup.jsonl and duplicates.json.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { DuplicateGroup, DuplicateReport, SampleDoc } from '../../../shared/config/prepare'
import { type DocRecord, FILES } from './files'
import { writeJsonAtomic } from '../../durable-file'
import { AtomicJsonlWriter, readJsonAt, readJsonl } from './jsonl'
import { DisjointSets, LshIndex, MinHasher, jaccard, shingleSet } from './minhash'
import { type StageDef, type StageEnv, excerpt } from './stage'

const REPORT_EXAMPLES = 50
const EXAMPLE_CHARS = 400

/** Pass 1's result: where each document lies in clean.jsonl, its URL, text hash and MinHash signature. */
interface DocIndex {
  n: number
  offsets: number[]
  lengths: number[]
  urls: string[]
  hashes: string[]
  /** `seeds` values per document, in input order (empty when near-duplicate search is off). */
  signatures: Uint32Array
}

interface Removal {
  reason: 'exact-duplicate' | 'near-duplicate'
  keptBy: number
  jaccard: number
}

/** What the grouping phases share: documents removed (by index) and the groups found. */
interface Duplicates {
  removed: Map<number, Removal>
  groups: number[][]
  report: DuplicateReport
  /** Orders documents by URL (then input order): the first of a group is the one kept. */
  byUrl: (a: number, b: number) => number
}

export const dedupeStage: StageDef = {
  name: 'dedupe',
  fingerprint: (config) => ({ dedupe: config.dedupe, version: 1 }),
  async run(env) {
    const { dir, config, tally } = env
    const cfg = config.dedupe
    const file = path.join(dir, FILES.clean)
    const size = fs.statSync(file).size
    const docs = await indexDocuments(env, file, size)
    const fd = fs.openSync(file, 'r')
    const readDoc = (i: number): DocRecord => readJsonAt<DocRecord>(fd, docs.offsets[i], docs.lengths[i])
    const { urls } = docs
    const dups: Duplicates = {
      removed: new Map(),
      groups: [],
      report: { documents: docs.n, exactRemoved: 0, candidatePairs: 0, similarPairs: 0, groups: 0, nearRemoved: 0, examples: [] },
      byUrl: (a, b) => (urls[a] < urls[b] ? -1 : urls[a] > urls[b] ? 1 : a - b)
    }
    try {
      if (cfg.exact) findExactDuplicates(docs, dups)
      if (cfg.near) await findNearDuplicates(env, docs, dups, readDoc)
      dups.report.groups = dups.groups.length
      dups.report.examples = reportExamples(docs, dups, readDoc)
      await writeKept(env, docs, dups, readDoc, size)
    } finally {
      fs.closeSync(fd)
    }
    tally.note('candidate-pairs', dups.report.candidatePairs)
    tally.note('similar-pairs', dups.report.similarPairs)
    tally.note('groups', dups.report.groups)
    writeJsonAtomic(path.join(dir, FILES.duplicates), dups.report)
    return [FILES.dedup, FILES.duplicates]
  }
}

/** Pass 1: hash and fingerprint every document (the first half of the stage's progress). */
async function indexDocuments({ config, job, tally }: StageEnv, file: string, size: number): Promise<DocIndex> {
  const cfg = config.dedupe
  const hasher = new MinHasher(cfg.seeds, cfg.seed)
  const docs: DocIndex = { n: 0, offsets: [], lengths: [], urls: [], hashes: [], signatures: new Uint32Array(cfg.near ? 1024 * cfg.seeds : 0) }
  for await (const { value, offset, length, bytesRead } of readJsonl<DocRecord>(file)) {
    const i = docs.offsets.length
    docs.offsets.push(offset)
    docs.lengths.push(length)
    docs.urls.push(value.url)
    docs.hashes.push(createHash('sha1').update(value.text.replace(/\s+/g, ' ').trim()).digest('base64'))
    if (cfg.near) {
      if ((i + 1) * cfg.seeds > docs.signatures.length) {
        const grown = new Uint32Array(docs.signatures.length * 2)
        grown.set(docs.signatures)
        docs.signatures = grown
      }
      hasher.signature(shingleSet(value.text, cfg.shingleChars), docs.signatures.subarray(i * cfg.seeds, (i + 1) * cfg.seeds))
    }
    tally.input++
    tally.bytesIn += length
    if (i % 16 === 0) {
      tally.progress(bytesRead, size * 2, 'bytes')
      await job.pausePoint()
    }
  }
  docs.n = docs.offsets.length
  return docs
}

/** Documents with the same normalised text: all but the first by URL are removed. */
function findExactDuplicates(docs: DocIndex, { removed, groups, report, byUrl }: Duplicates): void {
  const byHash = new Map<string, number[]>()
  for (let i = 0; i < docs.n; i++) {
    const list = byHash.get(docs.hashes[i])
    if (list) list.push(i)
    else byHash.set(docs.hashes[i], [i])
  }
  for (const members of byHash.values()) {
    if (members.length < 2) continue
    members.sort(byUrl)
    for (const m of members.slice(1)) removed.set(m, { reason: 'exact-duplicate', keptBy: members[0], jaccard: 1 })
    groups.push(members)
    report.exactRemoved += members.length - 1
  }
}

/**
 * Near duplicates among what is left: LSH candidate pairs, checked by their real Jaccard
 * similarity; pairs at >= groupJaccard join groups, all but the first of each by URL removed.
 */
async function findNearDuplicates({ config, job }: StageEnv, docs: DocIndex, { removed, groups, report, byUrl }: Duplicates, readDoc: (i: number) => DocRecord): Promise<void> {
  const cfg = config.dedupe
  const lsh = new LshIndex(cfg.bands, cfg.seeds)
  for (let i = 0; i < docs.n; i++) if (!removed.has(i)) lsh.add(i, docs.signatures.subarray(i * cfg.seeds, (i + 1) * cfg.seeds))
  const pairs: [number, number][] = []
  report.candidatePairs = lsh.candidatePairs((a, b) => pairs.push([a, b]))
  const shingles = new Map<number, Uint32Array>()
  const setOf = (i: number): Uint32Array => {
    let s = shingles.get(i)
    if (!s) shingles.set(i, (s = shingleSet(readDoc(i).text, cfg.shingleChars)))
    return s
  }
  const sets = new DisjointSets(docs.n)
  const edges = new Map<number, number>()
  for (const [k, [a, b]] of pairs.entries()) {
    const similarity = jaccard(setOf(a), setOf(b))
    if (similarity > cfg.candidateJaccard) report.similarPairs++
    if (similarity >= cfg.groupJaccard) {
      sets.union(a, b)
      edges.set(a, Math.max(edges.get(a) ?? 0, similarity))
      edges.set(b, Math.max(edges.get(b) ?? 0, similarity))
    }
    if (k % 256 === 0) await job.pausePoint()
  }
  shingles.clear()
  const members = new Map<number, number[]>()
  for (const i of edges.keys()) {
    const root = sets.find(i)
    const list = members.get(root)
    if (list) list.push(i)
    else members.set(root, [i])
  }
  for (const group of members.values()) {
    group.sort(byUrl)
    for (const m of group.slice(1)) removed.set(m, { reason: 'near-duplicate', keptBy: group[0], jaccard: edges.get(m) ?? 0 })
    groups.push(group)
    report.nearRemoved += group.length - 1
  }
}

/** The report's examples: the largest groups first. */
function reportExamples(docs: DocIndex, { removed, groups, byUrl }: Duplicates, readDoc: (i: number) => DocRecord): DuplicateGroup[] {
  const sample = (i: number): SampleDoc => ({ url: docs.urls[i], text: excerpt(readDoc(i).text, EXAMPLE_CHARS) })
  return [...groups]
    .sort((a, b) => b.length - a.length || byUrl(a[0], b[0]))
    .slice(0, REPORT_EXAMPLES)
    .map((g): DuplicateGroup => ({ kept: sample(g[0]), removed: g.slice(1, 6).map((m) => ({ ...sample(m), reason: removed.get(m)!.reason, jaccard: removed.get(m)!.jaccard })) }))
}

/** Pass 2: writes what is kept, in the input's order, and logs each removal with what it duplicates. */
async function writeKept({ dir, job, tally }: StageEnv, docs: DocIndex, { removed }: Duplicates, readDoc: (i: number) => DocRecord, size: number): Promise<void> {
  const { urls } = docs
  const out = new AtomicJsonlWriter(path.join(dir, FILES.dedup))
  try {
    for (let i = 0; i < docs.n; i++) {
      const gone = removed.get(i)
      if (gone) {
        tally.drop(gone.reason, urls[i], {
          detail: `kept ${urls[gone.keptBy]} (Jaccard ${gone.jaccard.toFixed(3)})`,
          sample: () => ({ url: urls[i], text: readDoc(i).text, title: `kept instead: ${urls[gone.keptBy]}` })
        })
      } else {
        const doc = readDoc(i)
        out.write(doc)
        tally.keep(() => ({ url: doc.url, title: doc.title, text: doc.text }))
      }
      if (i % 64 === 0) {
        tally.progress(size + docs.offsets[i], size * 2, 'bytes')
        await job.pausePoint()
      }
    }
    out.finish()
  } catch (err) {
    out.abort()
    throw err
  }
  tally.bytesOut = out.bytes
}
