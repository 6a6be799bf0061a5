// Downloads into eval-data/<task>/ from a local server: cached and reused, resumed with a Range
// request after a cut, rejected on a checksum mismatch, and clear errors for unreachable hosts,
// missing files and corrupt archives; a task without data is reported while the others run.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { downloadFile } from '../../src/core/eval/data/download'
import { resolveUrl } from '../../src/core/eval/data/sources'
import { EvalDataStore, TaskDataUnavailable } from '../../src/core/eval/data/store'
import { evaluateTasks } from '../../src/core/eval/evaluate'
import { getTask } from '../../src/core/eval/tasks/registry'
import { tempDir } from '../helpers'
import { CharBigramModel } from './bigram-model'
import { startFixtureServer, type FixtureServer } from './fixture-server'

let server: FixtureServer
beforeAll(async () => {
  server = await startFixtureServer()
})
afterAll(() => server.close())

const LAMBADA_PATH = '/mirror/eaidata.bmk.sh/data/lambada_test.jsonl'

describe('eval-data cache', () => {
  it('downloads once into eval-data/<task>/ and reuses the file', async () => {
    const root = tempDir('gptw-eval-data-')
    const store = new EvalDataStore(root, server.sources)
    const before = server.requests.length
    const docs = await getTask('lambada').loadDocs('validation', store)
    expect(docs).toHaveLength(2)
    expect(fs.existsSync(path.join(root, 'lambada', 'lambada_test.jsonl'))).toBe(true)
    await getTask('lambada').loadDocs('validation', new EvalDataStore(root, server.sources))
    expect(server.requests.slice(before).filter((r) => r.path === LAMBADA_PATH)).toHaveLength(1)
  })

  it('fetches a cached file again when it no longer has its recorded size', async () => {
    const root = tempDir('gptw-eval-data-')
    const file = path.join(root, 'lambada', 'lambada_test.jsonl')
    await getTask('lambada').loadDocs('validation', new EvalDataStore(root, server.sources))
    const recorded = JSON.parse(fs.readFileSync(`${file}.json`, 'utf8'))
    expect(recorded.size).toBe(server.files.get(LAMBADA_PATH)!.length)
    fs.truncateSync(file, 50) // a copy cut short outside the app
    const before = server.requests.filter((r) => r.path === LAMBADA_PATH).length
    expect(await getTask('lambada').loadDocs('validation', new EvalDataStore(root, server.sources))).toHaveLength(2)
    expect(server.requests.filter((r) => r.path === LAMBADA_PATH).length).toBe(before + 1)
  })

  it('reports download progress and follows Hub repository aliases', async () => {
    const seen: [string, string, number][] = []
    const store = new EvalDataStore(tempDir('gptw-eval-data-'), server.sources, fetch, (task, file, bytes) => seen.push([task, file, bytes]))
    await getTask('arithmetic_2da').loadDocs('validation', store)
    expect(seen.at(-1)).toEqual(['arithmetic_2da', 'two_digit_addition.jsonl', server.files.get('/mirror/raw.githubusercontent.com/openai/gpt-3/master/data/two_digit_addition.jsonl')!.length])
    const aliased = new EvalDataStore(tempDir('gptw-eval-data-'), { ...server.sources, hfRepoAliases: { 'aps/super_glue': 'moved/super_glue' } })
    await expect(getTask('cb').loadDocs('validation', aliased)).rejects.toThrow(/api\/datasets\/moved\/super_glue\/parquet\/cb\/validation answered HTTP 404/)
  })

  it('keeps Hugging Face splits as parquet shards beside the file list', async () => {
    const root = tempDir('gptw-eval-data-')
    const docs = await getTask('race').loadDocs('test', new EvalDataStore(root, server.sources))
    expect(docs).toHaveLength(2) // 4 rows in 2 shards, grouped into 2 articles
    const dir = path.join(root, 'race', 'hf', 'ehovy__race', 'high', 'test')
    expect(fs.readdirSync(dir).sort()).toEqual(['0000.parquet', '0001.parquet', 'files.json'])
  })

  it('resumes a cut download with a Range request', async () => {
    const root = tempDir('gptw-eval-data-')
    const url = `${server.base}${LAMBADA_PATH}`
    const dest = path.join(root, 'lambada_test.jsonl')
    server.cutAfter.set(LAMBADA_PATH, 100)
    await expect(downloadFile(url, dest)).rejects.toThrow(/interrupted|stopped at/)
    expect(fs.statSync(`${dest}.part`).size).toBe(100)
    await downloadFile(url, dest)
    const last = server.requests.filter((r) => r.path === LAMBADA_PATH).at(-1)
    expect(last?.range).toBe('bytes=100-')
    expect(fs.readFileSync(dest)).toEqual(server.files.get(LAMBADA_PATH))
    expect(fs.existsSync(`${dest}.part`)).toBe(false)
  })

  it('checks the SHA-256 and deletes a download that does not match', async () => {
    const root = tempDir('gptw-eval-data-')
    const url = `${server.base}${LAMBADA_PATH}`
    const good = crypto.createHash('sha256').update(server.files.get(LAMBADA_PATH)!).digest('hex')
    await downloadFile(url, path.join(root, 'ok.jsonl'), { sha256: good })
    const bad = '0'.repeat(64)
    await expect(downloadFile(url, path.join(root, 'bad.jsonl'), { sha256: bad })).rejects.toThrow(new RegExp(`${good}, expected ${bad}.*deleted`))
    expect(fs.existsSync(path.join(root, 'bad.jsonl'))).toBe(false)
    expect(fs.existsSync(path.join(root, 'bad.jsonl.part'))).toBe(false)
  })

  it("verifies the harness's published checksums of official files by default", async () => {
    // the fixture is not the official LAMBADA file, so its hash cannot match
    const store = new EvalDataStore(tempDir('gptw-eval-data-'), { ...server.sources, verifyChecksums: true })
    await expect(getTask('lambada').loadDocs('validation', store)).rejects.toThrow(/lambada: .*expected 4aa8d02cd17c719165fc8a7887fddd641f43fcafa4b1c806ca8abc31fabdb226/)
  })

  it('names the URL and what to do when a host is unreachable or a file missing', async () => {
    const unreachable = new EvalDataStore(tempDir('gptw-eval-data-'), { huggingfaceBase: 'http://127.0.0.1:9', mirrors: server.sources.mirrors, verifyChecksums: false })
    const err = await getTask('copa')
      .loadDocs('validation', unreachable)
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskDataUnavailable)
    expect(String(err)).toMatch(/copa: could not reach http:\/\/127\.0\.0\.1:9\/api\/datasets\/aps\/super_glue\/parquet\/copa\/validation .*Hugging Face base URL/)
    server.missing.add('/mirror/statmt.org/wmt14/test-filtered.tgz')
    try {
      const store = new EvalDataStore(tempDir('gptw-eval-data-'), server.sources)
      await expect(getTask('wmt14-en-fr').loadDocs('test', store)).rejects.toThrow(/wmt14-en-fr: Downloading .*test-filtered\.tgz failed: HTTP 404/)
    } finally {
      server.missing.delete('/mirror/statmt.org/wmt14/test-filtered.tgz')
    }
  })

  it('reports a corrupt cached file with its path', async () => {
    const root = tempDir('gptw-eval-data-')
    fs.mkdirSync(path.join(root, 'sciq'), { recursive: true })
    fs.writeFileSync(path.join(root, 'sciq', 'SciQ.zip'), 'this is not a zip')
    await expect(getTask('sciq').loadDocs('test', new EvalDataStore(root, server.sources))).rejects.toThrow(/SciQ\.zip is not a readable zip archive.*delete it/)
    const pq = '/hf/files/aps/super_glue/cb/validation/0.parquet'
    const saved = server.files.get(pq)!
    server.files.set(pq, Buffer.from('PAR1 broken'))
    try {
      await expect(getTask('cb').loadDocs('validation', new EvalDataStore(tempDir('gptw-eval-data-'), server.sources))).rejects.toThrow(/0000\.parquet is not a readable parquet file.*delete it/)
    } finally {
      server.files.set(pq, saved)
    }
  })

  it('maps official hosts onto mirrors', () => {
    expect(
      resolveUrl('https://people.eecs.berkeley.edu/~hendrycks/data.tar', { huggingfaceBase: '', mirrors: { 'https://people.eecs.berkeley.edu': 'http://m/berkeley/' }, verifyChecksums: true })
    ).toBe('http://m/berkeley/~hendrycks/data.tar')
    expect(resolveUrl('http://statmt.org/wmt14/test-full.tgz', { huggingfaceBase: '', mirrors: {}, verifyChecksums: true })).toBe('http://statmt.org/wmt14/test-full.tgz')
  })
})

describe('a task without data', () => {
  it('is reported while the other tasks run', async () => {
    server.missing.add('/hf/api/datasets/aps/super_glue/parquet/copa/validation')
    try {
      const store = new EvalDataStore(tempDir('gptw-eval-data-'), server.sources)
      const out = await evaluateTasks(['copa', 'arithmetic_2da', 'cb'], CharBigramModel.mobyDick(50_000), store, { numFewshot: 0, bootstrapIters: 10 })
      expect(out.results.map((r) => r.task)).toEqual(['arithmetic_2da', 'cb'])
      expect(out.failures).toHaveLength(1)
      expect(out.failures[0].task).toBe('copa')
      expect(out.failures[0].message).toMatch(/HTTP 404.*aps\/super_glue \(copa\/validation\)/)
    } finally {
      server.missing.delete('/hf/api/datasets/aps/super_glue/parquet/copa/validation')
    }
  })
})
