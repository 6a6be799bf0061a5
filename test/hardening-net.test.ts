// Issue 13 F5: the downloaders never fetch the machine's own network. A local page with a secret
// is asked for under every spelling of loopback and through redirects (to an IP literal and to a
// name that resolves to 127.0.0.1 only inside the connection's lookup): each is refused as
// private-address without the server seeing the request, recorded as a failed download (the job
// finishes); with the dataset's opt-in the same page is fetched. Eval data: refused unless the host
// is a mirror or base URL the user configured.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrepareConfig } from '../src/shared/config/prepare'
import { inlineContext } from '../src/core/job-context'
import { AddressGuard, forbiddenRange } from '../src/core/data/pipeline/address-guard'
import { fetchPage } from '../src/core/data/pipeline/fetch-page'
import { runPipeline } from '../src/core/data/pipeline/runner'
import { EvalDataStore, guardedFetch } from '../src/core/eval/data/store'
import { DEFAULT_SOURCES } from '../src/core/eval/data/sources'
import { mobyPage } from './fixtures/webtext-corpus'
import { type TestSite, html, startSite } from './fixtures/webtext-server'
import { tempDir } from './helpers'

let site: TestSite
let port: string
const settings = (allowPrivateAddresses = false): PrepareConfig['download'] => PrepareConfig.parse({ sources: { urls: ['x'] }, download: { allowPrivateAddresses, retries: 0 } }).download
/** A resolver in which test names point at 127.0.0.1 (the rebinding case), others at a public address. */
const testResolve = (hostname: string, cb: (err: NodeJS.ErrnoException | null, a: { address: string; family: number }[]) => void): void =>
  cb(null, [{ address: hostname.endsWith('.test') ? '127.0.0.1' : '93.184.216.34', family: 4 }])

beforeAll(async () => {
  site = await startSite()
  port = new URL(site.origin).port
  site.route('/secret', html(`<html><body><p>api_key=SECRET123</p>${mobyPage(1)}</body></html>`))
  site.route('/to-literal', (_req, res) => void res.writeHead(302, { location: `http://127.0.0.1:${port}/secret` }).end())
  site.route('/to-name', (_req, res) => void res.writeHead(302, { location: `http://rebind.test:${port}/secret` }).end())
})
afterAll(() => site.close())

describe('address guard', () => {
  it('classifies every non-public range, IPv4-mapped included', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '224.0.0.1',
      '255.255.255.255',
      '240.0.0.1',
      '::1',
      '::',
      'fc00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      'ff02::1'
    ])
      expect(forbiddenRange(a), a).not.toBeNull()
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700::1']) expect(forbiddenRange(a), a).toBeNull()
  })

  it('refuses a name in the connection lookup when any of its addresses is private, passes public ones', async () => {
    const guard = new AddressGuard({ resolve: testResolve })
    const look = (host: string): Promise<string> => new Promise((resolve, reject) => guard.lookup(host, { all: true }, (err, addresses) => (err ? reject(err) : resolve(JSON.stringify(addresses)))))
    await expect(look('rebind.test')).rejects.toThrow(/rebind\.test is at 127\.0\.0\.1, a loopback address/)
    await expect(look('example.org')).resolves.toContain('93.184.216.34')
  })
})

describe('webtext downloader', () => {
  const spellings = () => [
    `http://127.0.0.1:${port}/secret`,
    `http://127.1:${port}/secret`,
    `http://2130706433:${port}/secret`,
    `http://0x7f.1:${port}/secret`,
    `http://[::1]:${port}/secret`,
    `http://[::ffff:127.0.0.1]:${port}/secret`,
    `http://0.0.0.0:${port}/secret`
  ]

  it('refuses loopback under every spelling without connecting', async () => {
    const before = site.hits.get('/secret') ?? 0
    for (const url of spellings()) {
      const outcome = await fetchPage(url, settings())
      expect(outcome, url).toMatchObject({ ok: false, reason: 'private-address', retryable: false })
    }
    expect(site.hits.get('/secret') ?? 0).toBe(before)
  })

  it('refuses a redirect from an allowed host to an IP literal and to a name that resolves to loopback', async () => {
    // public.test stands for an allowed public host: trusted here because the only server is local.
    const guard = new AddressGuard({ trustedHosts: ['127.0.0.1'], resolve: testResolve })
    const guardNamed = new AddressGuard({ trustedHosts: ['public.test'], resolve: testResolve })
    try {
      const before = site.hits.get('/secret') ?? 0
      const toName = await fetchPage(site.url('/to-name'), settings(), undefined, guard)
      expect(toName).toMatchObject({ ok: false, reason: 'private-address' })
      expect(!toName.ok && toName.detail).toMatch(/rebind\.test is at 127\.0\.0\.1/)
      const toLiteral = await fetchPage(`http://public.test:${port}/to-literal`, settings(), undefined, guardNamed)
      expect(toLiteral).toMatchObject({ ok: false, reason: 'private-address' })
      expect(!toLiteral.ok && toLiteral.detail).toMatch(/redirected to http:\/\/127\.0\.0\.1/)
      expect(site.hits.get('/to-literal')).toBeGreaterThanOrEqual(1)
      expect(site.hits.get('/secret') ?? 0).toBe(before)
    } finally {
      await guard.close()
      await guardNamed.close()
    }
  })

  it('records a refused URL as a failed download (the job finishes); with the opt-in the page is fetched', async () => {
    const urls = [`http://127.1:${port}/secret`, `http://2130706433:${port}/to-name`, `http://[::1]:${port}/to-literal`]
    const refusedDir = path.join(tempDir('gptw-net-'), 'ds')
    await runPipeline(PrepareConfig.parse({ sources: { urls }, download: { perHostDelayMs: 0 }, output: { tokenize: false } }), refusedDir, inlineContext()).catch(() => {})
    const failures = fs
      .readFileSync(path.join(refusedDir, 'download-failures.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { url: string; reason: string })
    expect(failures.map((f) => f.reason)).toEqual(['private-address', 'private-address', 'private-address'])
    const pages = path.join(refusedDir, 'raw.jsonl')
    expect(fs.existsSync(pages) ? fs.readFileSync(pages, 'utf8') : '').not.toContain('SECRET123')

    const allowedDir = path.join(tempDir('gptw-net-'), 'ds')
    const config = PrepareConfig.parse({
      sources: { urls: [`http://127.1:${port}/secret`] },
      download: { perHostDelayMs: 0, allowPrivateAddresses: true },
      clean: { languages: [] },
      output: { tokenize: false }
    })
    await runPipeline(config, allowedDir, inlineContext())
    expect(fs.readFileSync(path.join(allowedDir, 'raw.jsonl'), 'utf8')).toContain('SECRET123')
  })
})

describe('eval-data downloads', () => {
  it('refuse a private address unless it is a configured mirror or base URL', async () => {
    const plain = guardedFetch(DEFAULT_SOURCES)
    await expect(plain(site.url('/secret'))).rejects.toThrow()
    await expect(plain(`http://[::1]:${port}/secret`)).rejects.toThrow()
    const mirrored = guardedFetch({ ...DEFAULT_SOURCES, mirrors: { 'https://people.eecs.berkeley.edu': `${site.origin}/mirror` } })
    const res = await mirrored(site.url('/secret'))
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('SECRET123')
    // A redirect from the trusted mirror to another private host is still refused.
    await expect(guardedFetch({ ...DEFAULT_SOURCES, huggingfaceBase: site.origin })(site.url('/to-name'))).rejects.toThrow()
  })

  it('the eval-data store refuses an official file on a private address, and fetches it through a configured local mirror', async () => {
    const spec = { url: `http://127.1:${port}/secret`, name: 'secret.html' }
    const plain = new EvalDataStore(tempDir('gptw-net-eval-'))
    await expect(plain.file('lambada', spec)).rejects.toThrow(/lambada: Refused http:\/\/127\.1:\d+\/secret: 127\.0\.0\.1 is a loopback address.*set it as a mirror/)
    const mirrored = new EvalDataStore(tempDir('gptw-net-eval-'), { mirrors: { [`http://127.0.0.1:${port}`]: site.origin } })
    expect(fs.readFileSync(await mirrored.file('lambada', spec), 'utf8')).toContain('SECRET123')
  })
})
