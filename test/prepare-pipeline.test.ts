// The Webtext pipeline end to end against a local web site of real pages (Moby Dick chapters,
// SpamAssassin HTML messages) and planted hard cases, plus saved HTML pages and loose JSON: each
// stage must drop exactly what it should, with the right reason, and keep the rest.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type DatasetManifest, PrepareConfig, type PrepareConfigInput } from '../src/shared/config/prepare'
import { inlineContext } from '../src/core/job-context'
import { END_OF_TEXT } from '../src/core/data/gpt2-tokenizer'
import { readShard, readShardMeta } from '../src/core/data/shards'
import { runPipeline } from '../src/core/data/pipeline/runner'
import { mobyChapter, mobyPage, spamAssassinPages } from './fixtures/webtext-corpus'
import { trueJaccard } from './fixtures/jaccard'
import { type TestSite, startSite } from './fixtures/webtext-server'
import { CHAPTERS, type PlantedSite, filteredUrls, plantSite } from './fixtures/webtext-site'
import { sotuSpeeches, tempDir } from './helpers'

interface Doc {
  url: string
  text: string
  title?: string
}
interface Drop {
  url: string
  reason: string
  detail?: string
}

const readLines = <T>(file: string): T[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T)
const manifestOf = (dir: string): DatasetManifest => JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'))
const dropsOf = (dir: string, stage: string): Drop[] => readLines<Drop>(path.join(dir, 'dropped', `${stage}.jsonl`))
/** Straight quotes, one space: how the cleaner leaves typography (independent of its code). */
const plain = (s: string): string =>
  s
    .replace(/[\u2018\u2019]/g, "'")
    .replace(/[\u201C\u201D]/g, '"')
    .replace(/\s+/g, ' ')
    .trim()

let site: TestSite
let planted: PlantedSite
let work: string
let config: PrepareConfig
let dir: string
let logs: string[]

function testConfig(overrides: Partial<PrepareConfigInput> = {}): PrepareConfig {
  return PrepareConfig.parse({
    name: 'pipeline test',
    sources: { urlFiles: [path.join(work, 'lists')], htmlDirs: [path.join(work, 'saved')], jsonFiles: [path.join(work, 'speeches.jsonl')] },
    download: { concurrency: 6, timeoutMs: 800, retries: 1, backoffMs: 20, maxRedirects: 3, perHostDelayMs: 0, maxBytes: 1_000_000, allowPrivateAddresses: true },
    output: { valFraction: 0.1 },
    ...overrides
  })
}

beforeAll(async () => {
  site = await startSite()
  planted = plantSite(site)
  work = tempDir('gptw-prepare-')
  // URL lists as OpenWebText ships them: several files in a folder.
  fs.mkdirSync(path.join(work, 'lists'))
  const half = Math.floor(planted.urls.length / 2)
  fs.writeFileSync(path.join(work, 'lists', 'urls-a.txt'), planted.urls.slice(0, half).join('\n') + '\n')
  fs.writeFileSync(path.join(work, 'lists', 'urls-b.txt'), [...planted.urls.slice(half), ...Object.keys(filteredUrls(site.origin))].join('\r\n'))
  // Saved pages: two SpamAssassin messages beyond those served, and a chapter with a canonical URL.
  fs.mkdirSync(path.join(work, 'saved', 'nested'), { recursive: true })
  const extra = spamAssassinPages(33).slice(31)
  for (const p of extra) fs.writeFileSync(path.join(work, 'saved', `${p.name}.html`), p.html)
  fs.writeFileSync(path.join(work, 'saved', 'nested', 'chapter-20.htm'), mobyPage(20).replace('<head>', '<head><link rel="canonical" href="https://example.org/moby/20">'))
  // Loose JSON: three speeches, a broken line, a line without text, and a document too short to keep.
  const speeches = sotuSpeeches().slice(100, 103)
  fs.writeFileSync(
    path.join(work, 'speeches.jsonl'),
    [
      ...speeches.map((text, i) => JSON.stringify({ text, url: `https://sotu.example/${i}` })),
      '{not json',
      JSON.stringify({ url: 'https://sotu.example/no-text' }),
      JSON.stringify({ text: 'Thank you. God bless America.', url: 'https://sotu.example/short' })
    ].join('\n') + '\n'
  )
  config = testConfig()
  dir = path.join(work, 'dataset')
  logs = []
  await runPipeline(
    config,
    dir,
    inlineContext(undefined, (l) => logs.push(l))
  )
}, 120_000)

afterAll(async () => {
  await site?.close()
})

describe('Webtext pipeline on a local site of real pages', () => {
  it('finishes every stage and records it in the manifest', () => {
    const manifest = manifestOf(dir)
    for (const stage of Object.values(manifest.stages)) expect(stage.status).toBe('done')
    expect(manifest.result?.documents).toBeGreaterThan(20)
    // Every stage accounts for each item it was given: kept + dropped = in.
    for (const [name, s] of Object.entries(manifest.stages)) {
      if (name === 'sources') continue
      expect(s.kept + Object.values(s.dropped).reduce((a, b) => a + b, 0), name).toBe(s.input)
    }
    const { stages } = manifest
    expect(stages.download.input).toBe(stages.urlFilter.kept)
    expect(stages.extract.input).toBe(stages.download.kept + 3)
    expect(stages.clean.input).toBe(stages.extract.kept + 6)
    expect(stages.dedupe.input).toBe(stages.clean.kept)
    expect(stages.output.kept).toBe(stages.dedupe.kept)
  })

  it('filters URLs by Megatron rules: duplicates after normalisation, short, malformed, blacklisted', () => {
    const expected = filteredUrls(site.origin)
    const drops = dropsOf(dir, 'urlFilter')
    expect(Object.fromEntries(drops.map((d) => [d.url, d.reason]))).toEqual(expected)
    const kept = fs.readFileSync(path.join(dir, 'urls.txt'), 'utf8').trim().split('\n')
    expect(kept.length).toBe(planted.urls.filter((u) => u && !u.startsWith('#')).length)
    expect(kept).not.toContain(`${site.origin}/moby/1#top`)
  })

  it('downloads with retries, follows redirects within the limit, and records each failure with its reason', () => {
    const failures = dropsOf(dir, 'download')
    const byPath = Object.fromEntries(failures.map((f) => [new URL(f.url).pathname, f.reason]))
    expect(byPath).toEqual(planted.downloadFailures)
    expect(site.hits.get('/flaky')).toBe(2) // a 503, then the page
    expect(site.hits.get('/fail')).toBe(2) // retries: 1
    expect(site.hits.get('/missing')).toBe(1) // a 404 is not retried
    expect(site.hits.get('/slow')).toBe(2) // timed out twice
    expect(site.hits.get('/loop')! + site.hits.get('/loop-2')!).toBe(4) // 3 redirects allowed, the 4th request ends it
    const pages = readLines<{ url: string; finalUrl: string; charset: string }>(path.join(dir, 'raw.jsonl'))
    const redirected = pages.find((p) => p.url === site.url('/redirect'))
    expect(redirected?.finalUrl).toBe(site.url('/landing/whales-final'))
    expect(pages.find((p) => p.url === site.url('/cp1252'))?.charset).toBe('windows-1252')
  })

  it('extracts the article text without navigation, footers or scripts, and keeps titles', () => {
    const docs = readLines<Doc>(path.join(dir, 'extracted.jsonl'))
    const first = docs.find((d) => d.url === site.url('/moby/1'))!
    expect(first.title).toBe(mobyChapter(1).title)
    expect(plain(first.text)).toContain(plain(mobyChapter(1).paragraphs[0]))
    for (const d of docs.filter((d) => !d.url.includes('/spam/'))) {
      expect(d.text).not.toContain('SCRIPT RAN')
      expect(d.text).not.toContain('All rights reserved')
      expect(d.text).not.toMatch(/Home \| About/)
    }
    const saved = docs.find((d) => d.url === 'https://example.org/moby/20')
    expect(saved?.title).toBe(mobyChapter(20).title)
  })

  it('repairs mojibake and decodes a Windows-1252 page', () => {
    const docs = readLines<Doc>(path.join(dir, 'clean.jsonl'))
    const fixed = docs.find((d) => d.url === site.url('/mojibake'))!
    for (const p of mobyChapter(15).paragraphs) expect(fixed.text).toContain(plain(p))
    expect(fixed.text).not.toMatch(/â€|Ã/)
    const cp = docs.find((d) => d.url === site.url('/cp1252'))!
    // Everything outside Latin-1 (and cp1252's extras) becomes '?' in the cp1252 page.
    // eslint-disable-next-line no-control-regex
    for (const p of mobyChapter(16).paragraphs) expect(cp.text).toContain(plain(p).replace(/[^\x00-\xff\u2014\u2013\u2026\u20ac]/g, '?'))
    expect(manifestOf(dir).stages.clean.notes['documents-with-mojibake']).toBeGreaterThanOrEqual(1)
  })

  it('drops documents under 128 tokens, not in English, or not documents at all', () => {
    const drops = Object.fromEntries(dropsOf(dir, 'clean').map((d) => [d.url, d]))
    expect(drops[site.url('/short')]?.reason).toBe('too-short')
    expect(drops[site.url('/french')]).toMatchObject({ reason: 'wrong-language', detail: 'fr' })
    expect(drops['https://sotu.example/short']?.reason).toBe('too-short')
    expect(
      Object.values(drops)
        .filter((d) => d.reason === 'not-a-document')
        .map((d) => d.detail)
        .sort()
    ).toEqual(['no "text" string', 'not JSON'])
    for (const d of Object.values(drops).filter((d) => d.reason === 'too-short')) expect(Number(d.detail?.split(' ')[0])).toBeLessThan(128)
  })

  it('removes the planted exact and near duplicates, and every pair it removes is truly similar', () => {
    const clean = new Map(readLines<Doc>(path.join(dir, 'clean.jsonl')).map((d) => [d.url, d.text]))
    const drops = dropsOf(dir, 'dedupe')
    const byUrl = Object.fromEntries(drops.map((d) => [d.url, d]))
    // The copy with the larger URL goes; the other stays.
    expect(byUrl[site.url('/moby/5')]).toMatchObject({ reason: 'exact-duplicate', detail: expect.stringContaining(site.url('/mirror/moby-5')) })
    expect(byUrl[site.url('/moby/near-3')]).toMatchObject({ reason: 'near-duplicate', detail: expect.stringContaining(site.url('/moby/3')) })
    for (const d of drops) {
      const kept = /^kept (\S+)/.exec(d.detail ?? '')![1]
      const similarity = trueJaccard(clean.get(d.url)!, clean.get(kept)!)
      expect(similarity, `${d.url} vs ${kept}`).toBeGreaterThanOrEqual(d.reason === 'exact-duplicate' ? 0.999 : 0.7)
    }
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'duplicates.json'), 'utf8'))
    expect(report.exactRemoved + report.nearRemoved).toBe(drops.length)
    expect(report.examples.length).toBeGreaterThan(0)
  })

  it('writes shuffled train_data.json ({"text","url"} per line) and token shards with a validation split', () => {
    const out = readLines<Doc>(path.join(dir, 'train_data.json'))
    const dedup = readLines<Doc>(path.join(dir, 'dedup.jsonl'))
    expect(out.map((d) => Object.keys(d).sort().join())).toEqual(out.map(() => 'text,url'))
    expect(new Set(out.map((d) => d.url))).toEqual(new Set(dedup.map((d) => d.url)))
    const urls = out.map((d) => d.url)
    expect(urls).not.toEqual([...urls].sort())
    for (const n of CHAPTERS.filter((c) => c !== 5)) expect(urls).toContain(site.url(`/moby/${n}`))
    for (const p of ['/mirror/moby-5', '/flaky', '/redirect', '/mojibake', '/cp1252']) expect(urls).toContain(site.url(p))
    for (const p of ['/short', '/french', '/moby/5', '/moby/near-3', '/fail', '/slow', '/huge']) expect(urls).not.toContain(site.url(p))
    expect(urls).toEqual(expect.arrayContaining(['https://sotu.example/0', 'https://sotu.example/1', 'https://sotu.example/2']))
    const redirect = out.find((d) => d.url === site.url('/redirect'))!
    expect(redirect.text).toContain(plain(mobyChapter(14).paragraphs[0]))

    const tokens = path.join(dir, 'tokens')
    const meta = readShardMeta(tokens)
    expect(meta.splits.train.documents + meta.splits.val.documents).toBe(out.length)
    const ends = [...readShard(tokens, 'train'), ...readShard(tokens, 'val')].filter((t) => t === END_OF_TEXT).length
    expect(ends).toBe(out.length)
    expect(manifestOf(dir).result).toMatchObject({ documents: out.length, tokensDir: tokens, tokens: { train: meta.splits.train.tokens, val: meta.splits.val.tokens } })
  })

  it('keeps previews of what each stage kept and dropped', () => {
    const clean = JSON.parse(fs.readFileSync(path.join(dir, 'samples', 'clean.json'), 'utf8'))
    expect(clean.kept.length).toBeGreaterThan(3)
    expect(clean.kept.some((s: { before?: string }) => s.before && /â€|Ã/.test(s.before))).toBe(true)
    expect(clean.dropped.some((s: { reason: string }) => s.reason === 'wrong-language')).toBe(true)
  })

  it('reruns with nothing to do: every stage reused, no request sent, the same output', async () => {
    const before = fs.readFileSync(path.join(dir, 'train_data.json'))
    const hits = new Map(site.hits)
    const again: string[] = []
    await runPipeline(
      config,
      dir,
      inlineContext(undefined, (l) => again.push(l))
    )
    expect(again.filter((l) => l.includes('reusing its output'))).toHaveLength(7)
    expect(site.hits).toEqual(hits)
    expect(fs.readFileSync(path.join(dir, 'train_data.json'))).toEqual(before)
  })

  it('with download.retryFailed, tries again only the URLs that failed for a passing reason', async () => {
    const hits = new Map(site.hits)
    await runPipeline(testConfig({ download: { ...config.download, retryFailed: true } }), dir, inlineContext())
    const again = (p: string): number => (site.hits.get(p) ?? 0) - (hits.get(p) ?? 0)
    expect(again('/fail')).toBe(2) // http-500: tried again, with its retry
    expect(again('/slow')).toBe(2) // timeout: tried again
    for (const p of ['/missing', '/loop', '/huge', '/huge-declared', '/data', '/picture', '/moby/1', '/flaky']) expect(again(p), p).toBe(0)
    // Back to the original settings: the download stage reruns from its cache alone.
    const before = new Map(site.hits)
    await runPipeline(config, dir, inlineContext())
    expect(site.hits).toEqual(before)
  })

  it('after an edit to the dedupe threshold, reruns only dedupe and output', async () => {
    const edited = testConfig({ dedupe: { groupJaccard: 0.97 } })
    const cleanEnded = manifestOf(dir).stages.clean.endedAt
    const hits = new Map(site.hits)
    const again: string[] = []
    await runPipeline(
      edited,
      dir,
      inlineContext(undefined, (l) => again.push(l))
    )
    expect(again.filter((l) => l.includes('reusing its output'))).toHaveLength(5)
    expect(manifestOf(dir).stages.clean.endedAt).toBe(cleanEnded)
    expect(site.hits).toEqual(hits)
    const clean = new Map(readLines<Doc>(path.join(dir, 'clean.jsonl')).map((d) => [d.url, d.text]))
    const nearSimilarity = trueJaccard(clean.get(site.url('/moby/near-3'))!, clean.get(site.url('/moby/3'))!)
    expect(nearSimilarity).toBeLessThan(0.97)
    expect(readLines<Doc>(path.join(dir, 'train_data.json')).map((d) => d.url)).toContain(site.url('/moby/near-3'))
  })
})
