// A local HTTP server standing in for the Hugging Face Hub and the official download hosts: the
// fixtures of fixtures/rows.json in their real formats, the Hub's parquet-list API, HTTP Range
// for resumed downloads, and switches to cut a transfer short or corrupt a file.
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import type { DataSourceConfig } from '../../src/core/eval/data/sources'
import { parquetFile, tarFile, zipFile } from './fixture-formats'

const rows = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'rows.json'), 'utf8'))

/** The official URLs of the direct files, as the task modules name them. */
const DIRECT: Record<string, string> = {
  lambada: 'http://eaidata.bmk.sh/data/lambada_test.jsonl',
  sciq: 'https://ai2-public-datasets.s3.amazonaws.com/sciq/SciQ.zip',
  qa4mre:
    'http://nlp.uned.es/clef-qa/repository/js/scripts/downloadFile.php?file=/var/www/html/nlp/clef-qa/repository/resources/QA4MRE/2013/Main_Task/Training_Data/Goldstandard/QA4MRE-2013-EN_GS.xml',
  logiqa: 'https://raw.githubusercontent.com/lgw863/LogiQA-dataset/master/Test.txt',
  ethics: 'https://people.eecs.berkeley.edu/~hendrycks/ethics.tar',
  arithmetic: 'https://raw.githubusercontent.com/openai/gpt-3/master/data/two_digit_addition.jsonl',
  math: 'https://people.eecs.berkeley.edu/~hendrycks/MATH.tar',
  mmlu: 'https://people.eecs.berkeley.edu/~hendrycks/data.tar',
  wmt14: 'http://statmt.org/wmt14/test-filtered.tgz',
  drop: 'https://s3-us-west-2.amazonaws.com/allennlp/datasets/drop/drop_dataset.zip'
}

export interface FixtureServer {
  base: string
  sources: DataSourceConfig
  /** request log: method, path and Range header */
  requests: { path: string; range?: string }[]
  /** cut the next response for a path after this many bytes (then close the socket) */
  cutAfter: Map<string, number>
  /** paths answered with 404 */
  missing: Set<string>
  /** replace a served file's bytes */
  files: Map<string, Buffer>
  close(): Promise<void>
}

const jsonl = (xs: unknown[]): string => xs.map((x) => JSON.stringify(x)).join('\n') + '\n'

async function buildFiles(): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  for (const [key, splits] of Object.entries(rows.hf as Record<string, Record<string, Record<string, never>[]>>)) {
    const cut = key.lastIndexOf('/')
    const repo = key.slice(0, cut)
    const config = key.slice(cut + 1)
    for (const [split, list] of Object.entries(splits)) {
      // the largest split is served in two shards, as the Hub does for big splits
      const shards = list.length >= 4 ? [list.slice(0, 2), list.slice(2)] : [list]
      const urls = shards.map((shard, i) => {
        const p = `/hf/files/${repo}/${config}/${split}/${i}.parquet`
        files.set(p, parquetFile(shard))
        return p
      })
      files.set(`/hf/api/datasets/${repo}/parquet/${config}/${split}`, Buffer.from(JSON.stringify(urls)))
    }
  }
  const f = rows.files
  const put = (url: string, data: Buffer) => {
    const u = new URL(url)
    files.set(`/mirror/${u.host}${u.pathname}${u.search}`, data)
  }
  put(DIRECT.lambada, Buffer.from(jsonl(f.lambada)))
  put(DIRECT.sciq, zipFile(Object.fromEntries(Object.entries(f.sciq).map(([k, v]) => [`SciQ dataset-2 3/${k}.json`, JSON.stringify(v)]))))
  put(DIRECT.qa4mre, Buffer.from(f.qa4mre_2013))
  put(DIRECT.logiqa, Buffer.from(f.logiqa['Test.txt']))
  put(DIRECT.ethics, await tarFile(f.ethics_cm))
  put(DIRECT.arithmetic, Buffer.from(jsonl(f.arithmetic_2da)))
  put(DIRECT.math, await tarFile(Object.fromEntries(Object.entries(f.math_algebra).map(([k, v]) => [k, JSON.stringify(v)]))))
  put(DIRECT.mmlu, await tarFile(f.hendrycks))
  put(DIRECT.wmt14, await tarFile(f.wmt14, true))
  put(DIRECT.drop, zipFile(Object.fromEntries(Object.entries(f.drop).map(([k, v]) => [k, JSON.stringify(v)]))))
  return files
}

let cached: Promise<Map<string, Buffer>> | null = null

export async function startFixtureServer(): Promise<FixtureServer> {
  cached ??= buildFiles()
  const files = new Map(await cached)
  const requests: FixtureServer['requests'] = []
  const cutAfter = new Map<string, number>()
  const missing = new Set<string>()
  const server = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname) + (new URL(req.url ?? '/', 'http://x').search ? decodeURIComponent(new URL(req.url ?? '/', 'http://x').search) : '')
    requests.push({ path: p, range: req.headers.range })
    let body = files.get(p)
    if (body && p.startsWith('/hf/api/')) {
      // the Hub answers with absolute URLs
      body = Buffer.from(JSON.stringify((JSON.parse(body.toString()) as string[]).map((u) => `http://${req.headers.host}${u}`)))
    }
    if (!body || missing.has(p)) {
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('not found')
      return
    }
    let start = 0
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '')
    if (m) start = Number(m[1])
    if (start >= body.length && start > 0) {
      res.writeHead(416)
      res.end()
      return
    }
    const part = body.subarray(start)
    res.writeHead(m ? 206 : 200, { 'content-length': String(part.length), 'accept-ranges': 'bytes', ...(m ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}) })
    const cut = cutAfter.get(p)
    if (cut !== undefined) {
      cutAfter.delete(p)
      res.write(part.subarray(0, cut), () => res.destroy())
      return
    }
    res.end(part)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const origins = [...new Set(Object.values(DIRECT).map((u) => new URL(u).origin))]
  const sources: DataSourceConfig = {
    huggingfaceBase: `${base}/hf`,
    mirrors: Object.fromEntries(origins.map((o) => [o, `${base}/mirror/${new URL(o).host}`])),
    // fixtures are not the official files: their hashes differ by design
    verifyChecksums: false
  }
  return {
    base,
    sources,
    requests,
    cutAfter,
    missing,
    files,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      })
  }
}

export const fixtureRows = rows
