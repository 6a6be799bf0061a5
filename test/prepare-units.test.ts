// The pipeline's parts on their own: URL rules, text repair, HTML extraction without running
// scripts, language ID, per-host politeness against a real local server.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PrepareConfig } from '../src/shared/config/prepare'
import { inlineContext } from '../src/core/job-context'
import { benchDataPipeline } from '../src/core/data/pipeline/bench'
import { decodeHtml } from '../src/core/data/pipeline/charset'
import { HostGate, interleaveByHost } from '../src/core/data/pipeline/host-gate'
import { extractMainText } from '../src/core/data/pipeline/html-text'
import { AppendLog, truncatePartialTail } from '../src/core/data/pipeline/jsonl'
import { detectLanguage } from '../src/core/data/pipeline/language'
import { runPipeline } from '../src/core/data/pipeline/runner'
import { countTokensUpTo } from '../src/core/data/pipeline/token-count'
import { fixMojibake, repairText } from '../src/core/data/pipeline/unicode-repair'
import { UrlFilter, domainName, normaliseUrl } from '../src/core/data/pipeline/url-rules'
import { encodeText } from '../src/core/data/gpt2-tokenizer'
import { FRENCH_PARAGRAPHS, mobyChapter, mobyPage } from './fixtures/webtext-corpus'
import { startSite } from './fixtures/webtext-server'
import { encodeCp1252, mojibake } from './fixtures/webtext-site'
import { tempDir } from './helpers'

describe('URL rules', () => {
  it('normalises: lower-case host, no fragment, no default port, no tracking parameters', () => {
    expect(normaliseUrl('HTTP://Example.COM:80/Path?a=1&utm_source=x#frag')).toBe('http://example.com/Path?a=1')
    expect(normaliseUrl('https://example.com/?fbclid=abc')).toBe('https://example.com/')
    expect(normaliseUrl('https://example.com/?utm_source=x', false)).toBe('https://example.com/?utm_source=x')
    for (const bad of ['example.com/page', 'mailto:a@b.com', 'http://localhost/x', 'http://user:pw@example.com/', 'http://exa mple.com/', 'javascript:alert(1)']) {
      expect(normaliseUrl(bad), bad).toBeNull()
    }
  })

  it('names registered domains as tldextract does', () => {
    expect(domainName('news.bbc.co.uk')).toBe('bbc')
    expect(domainName('maps.google.com')).toBe('google')
    expect(domainName('www.google.co.jp')).toBe('google')
    expect(domainName('youtu.be')).toBe('youtu')
    expect(domainName('127.0.0.1')).toBe('127.0.0.1')
  })

  it('applies editable domain and extension lists', () => {
    const cfg = PrepareConfig.parse({ sources: { urls: ['x'] }, urlFilter: { domainBlacklist: ['example.org', 'Imgur'], extensionBlacklist: ['PDF', '.tar.gz'] } }).urlFilter
    expect(cfg.extensionBlacklist).toEqual(['.pdf', '.tar.gz'])
    const f = new UrlFilter(cfg)
    expect(f.check('https://blog.example.org/post')).toEqual({ reason: 'blacklisted-domain' })
    expect(f.check('https://example.org.evil.com/post')).toEqual({ url: 'https://example.org.evil.com/post' })
    expect(f.check('https://i.imgur.com/a')).toEqual({ reason: 'blacklisted-domain' })
    expect(f.check('https://files.example.com/report.pdf?download=1')).toEqual({ reason: 'blacklisted-extension' })
    expect(f.check('https://files.example.com/src.tar.gz')).toEqual({ reason: 'blacklisted-extension' })
    expect(f.check('https://www.youtube.com/watch?v=1')).toEqual({ url: 'https://www.youtube.com/watch?v=1' }) // not on this edited list
    expect(f.check('https://www.youtube.com/watch?v=1#t=5')).toEqual({ reason: 'duplicate' })
    expect(f.check('http://a.c/xyz')).toEqual({ reason: 'malformed' })
    expect(f.check('http://a')).toEqual({ reason: 'too-short' })
  })
})

describe('text repair (ftfy-style)', () => {
  it('undoes UTF-8 read as Windows-1252, once or twice over, and leaves real accents alone', () => {
    const cases: [string, string][] = [
      ['cafÃ©', 'café'],
      ['Ã¼ber naÃ¯ve', 'über naïve'],
      ['doesnâ€™t', 'doesn\u2019t'],
      ['â€œquotedâ€\u009d', '\u201Cquoted\u201D'],
      ['a â€” b', 'a \u2014 b'],
      ['smile ðŸ˜€', 'smile 😀'],
      ['Ã¡Ã©Ã\u00adÃ³Ãº', 'áéíóú'],
      [mojibake(mojibake('doesn’t — “so”')), 'doesn’t — “so”']
    ]
    for (const [broken, fixed] of cases) expect(fixMojibake(broken), broken).toBe(fixed)
    const fine = 'Voilà: São Paulo, naïve façade, 50°C, £5, Ünïcödé, Ærøskøbing, déjà vu.'
    expect(fixMojibake(fine)).toBe(fine)
  })

  it('removes control characters, unescapes entities in plain text, uncurls quotes, expands ligatures and full-width forms', () => {
    expect(repairText('a\u0000b\u0007c\u200Bd\r\ne\rf')).toBe('abcd\ne\nf')
    expect(repairText('Fish &amp; chips &#8212; &quot;yes&quot; &#x41;')).toBe('Fish & chips \u2014 "yes" A')
    expect(repairText('<b>Fish &amp; chips</b>')).toBe('<b>Fish &amp; chips</b>')
    expect(repairText('\u201CHe said \u2018no\u2019\u201D')).toBe('"He said \'no\'"')
    expect(repairText('\uFB01ne \uFB02ow \uFF21\uFF22\uFF23\uFF11')).toBe('fine flow ABC1')
    expect(repairText('e\u0301')).toBe('\u00E9') // NFC
    expect(repairText('  lots   of \t space \n\n\n\n next  ')).toBe('lots of space\n\nnext')
  })
})

describe('reading pages', () => {
  it('decodes by header, by <meta charset>, and cp1252 correctly (Node 20 gets 0x80-0x9F wrong)', () => {
    const page = '<html><head><meta charset="windows-1252"></head><body>\u201CWhale\u201D \u2014 \u20AC5</body></html>'
    expect(decodeHtml(encodeCp1252(page)).html).toBe(page)
    expect(decodeHtml(encodeCp1252(page), 'text/html; charset=ISO-8859-1').html).toBe(page)
    expect(decodeHtml(Buffer.from('<p>caf\u00e9</p>'), 'text/html; charset=utf-8').html).toBe('<p>caf\u00e9</p>')
    expect(decodeHtml(Buffer.from([0xef, 0xbb, 0xbf, 0x3c, 0x70, 0x3e])).charset).toBe('utf-8')
  })

  it("extracts the article and never runs the page's scripts", () => {
    let ran = false
    ;(globalThis as { __gptwScriptRan?: () => void }).__gptwScriptRan = () => (ran = true)
    const html = mobyPage(1)
      .replace('</head>', '<script>globalThis.__gptwScriptRan()</script></head>')
      .replace('<p>', '<p onclick="globalThis.__gptwScriptRan()"><img src=x onerror="globalThis.__gptwScriptRan()">')
    const doc = extractMainText(html)!
    expect(ran).toBe(false)
    expect(doc.title).toBe(mobyChapter(1).title)
    expect(doc.text.split('\n\n').length).toBeGreaterThan(10) // paragraphs survive as blank-line breaks
    expect(doc.text).not.toMatch(/Home|Contact|Whaling ships|Privacy/)
  })

  it('returns null for a page with no text', () => {
    expect(extractMainText('<html><body><img src="a.png"><script>var x = 1</script></body></html>')).toBeNull()
  })
})

describe('filters', () => {
  it('detects English and French', async () => {
    expect(await detectLanguage(mobyChapter(2).paragraphs.join('\n\n'))).toBe('en')
    expect(await detectLanguage(FRENCH_PARAGRAPHS.join('\n\n'))).toBe('fr')
  })

  it('counts tokens exactly under the threshold and at least the threshold above it', () => {
    const chapter = mobyChapter(1).paragraphs.join('\n\n')
    const exact = encodeText(chapter).length
    expect(countTokensUpTo(chapter, exact + 1)).toBe(exact)
    const capped = countTokensUpTo(chapter, 128)
    expect(capped).toBeGreaterThanOrEqual(128)
    expect(capped).toBeLessThanOrEqual(exact)
    expect(countTokensUpTo('Call me Ishmael.', 128)).toBe(encodeText('Call me Ishmael.').length)
  })
})

describe('append-only caches', () => {
  it('cut a line a crash left half-written, keeping every whole line', () => {
    const file = path.join(tempDir(), 'raw.jsonl')
    fs.writeFileSync(file, '{"url":"a"}\n{"url":"b"}\n{"url":"c","html":"<p>tru')
    truncatePartialTail(file)
    expect(fs.readFileSync(file, 'utf8')).toBe('{"url":"a"}\n{"url":"b"}\n')
    const log = new AppendLog(file)
    log.append({ url: 'd' })
    log.close()
    expect(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l).url)
    ).toEqual(['a', 'b', 'd'])
  })
})

describe('download politeness', () => {
  it('hands out one slot per host per delay, in order, and does not hold other hosts back', async () => {
    const gate = new HostGate(100)
    const t0 = Date.now()
    const at: Record<string, number[]> = { a: [], b: [] }
    await Promise.all([...'aaaab'].map((host) => gate.wait(host).then(() => at[host].push(Date.now() - t0))))
    at.a.forEach((t, k) => expect(t).toBeGreaterThanOrEqual(k * 100 - 1))
    expect(at.b[0]).toBeLessThan(50)
    expect(interleaveByHost(['http://x.org/1', 'http://x.org/2', 'http://y.org/1', 'http://x.org/3', 'http://y.org/2'])).toEqual([
      'http://x.org/1',
      'http://y.org/1',
      'http://x.org/2',
      'http://y.org/2',
      'http://x.org/3'
    ])
  })

  it('spaces requests to one host by perHostDelayMs even with many workers', async () => {
    const site = await startSite()
    try {
      for (let n = 1; n <= 5; n++) site.route(`/p/${n}`, (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end(mobyPage(n)))
      const config = PrepareConfig.parse({
        sources: { urls: [1, 2, 3, 4, 5].map((n) => site.url(`/p/${n}`)) },
        download: { concurrency: 5, perHostDelayMs: 250, allowPrivateAddresses: true },
        clean: { languages: [] }
      })
      const started = Date.now()
      await runPipeline(config, path.join(tempDir(), 'ds'), inlineContext())
      const times = [1, 2, 3, 4, 5].map((n) => site.times.get(`/p/${n}`)![0]).sort((a, b) => a - b)
      // The k-th request may not start before k slots of 250 ms have passed (a busy machine can
      // only make it later). Without the gate all five arrive within a few ms of the start.
      for (let k = 0; k < times.length; k++) expect(times[k] - started).toBeGreaterThanOrEqual(k * 250)
    } finally {
      await site.close()
    }
  })
})

describe('data bench', () => {
  it('reports MB/s per stage on a few chapters (correctness only: speed targets live in npm run bench)', async () => {
    const result = await benchDataPipeline({ chapters: 3 })
    expect(result.corpus.documents).toBe(3)
    for (const stage of ['extract', 'clean', 'dedupe', 'tokenize'] as const) {
      expect(result.stages[stage].megabytes, stage).toBeGreaterThan(0.01)
      expect(result.stages[stage].mbPerSecond, stage).toBeGreaterThan(0)
    }
  })
})

describe('loose JSON sources', () => {
  it('reads a .json file holding one array of documents as well as JSON lines', async () => {
    const work = tempDir()
    const chapters = [1, 2, 3].map((n) => ({ text: mobyChapter(n).paragraphs.join('\n\n'), url: `https://moby.example/${n}` }))
    fs.writeFileSync(path.join(work, 'array.json'), JSON.stringify(chapters, null, 2))
    const config = PrepareConfig.parse({ sources: { jsonFiles: [path.join(work, 'array.json')] }, output: { tokenize: false } })
    const result = await runPipeline(config, path.join(work, 'ds'), inlineContext())
    expect(result.documents).toBe(3)
    const out = fs
      .readFileSync(result.trainData, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).url)
    expect(out.sort()).toEqual(chapters.map((c) => c.url))
  })
})
