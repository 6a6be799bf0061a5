// Stage 4, extract: main text, title and URL from every downloaded page of the current URL list
// (raw.jsonl) and every saved HTML page (sources.htmlDirs), into extracted.jsonl. HTML is parsed,
// never executed. Pages without readable main text are dropped and counted.
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { decodeHtml } from './charset'
import type { StoredPage } from './download'
import { type DocRecord, FILES } from './files'
import { type ExtractedText, extractMainText } from './html-text'
import { AtomicJsonlWriter, readJsonl } from './jsonl'
import type { StageDef, StageEnv } from './stage'
import { readInventory } from './sources'
import { readKeptUrls } from './url-filter'

const CANONICAL = /<link[^>]+rel=["']?canonical["']?[^>]*>/i

/** A saved page's URL: its <link rel="canonical"> when it has an absolute one, else its file URL. */
export function savedPageUrl(html: string, file: string): string {
  const tag = CANONICAL.exec(html.slice(0, 65536))?.[0]
  const href = tag && /href=["']?([^"'\s>]+)/i.exec(tag)?.[1]
  if (href && /^https?:\/\//i.test(href)) return href
  return pathToFileURL(file).href
}

export const extractStage: StageDef = {
  name: 'extract',
  fingerprint: () => ({ extractor: 'readability-0.6+linkedom', version: 1 }),
  async run(env) {
    const { dir } = env
    const wanted = new Set(await readKeptUrls(dir))
    const inventory = readInventory(dir)
    const pagesFile = path.join(dir, FILES.pages)
    const hasPages = wanted.size > 0 && fs.existsSync(pagesFile)
    const total = (hasPages ? fs.statSync(pagesFile).size : 0) + inventory.htmlFiles.reduce((n, f) => n + f.bytes, 0)
    const out = new AtomicJsonlWriter(path.join(dir, FILES.extracted))
    try {
      let base = 0
      if (hasPages) {
        const seen = new Set<string>()
        for await (const { value: page, bytesRead } of readJsonl<StoredPage>(pagesFile)) {
          if (!wanted.has(page.url) || seen.has(page.url)) continue
          seen.add(page.url)
          await extractOne(env, out, page.html, page.url, page.bytes, bytesRead, total)
        }
        base = fs.statSync(pagesFile).size
      }
      for (const { file, bytes } of inventory.htmlFiles) {
        const { html } = decodeHtml(fs.readFileSync(file))
        base += bytes
        await extractOne(env, out, html, savedPageUrl(html, file), bytes, base, total)
      }
      out.finish()
    } catch (err) {
      out.abort()
      throw err
    }
    env.tally.bytesOut = out.bytes
    return [FILES.extracted]
  }
}

async function extractOne({ job, tally }: StageEnv, out: AtomicJsonlWriter, html: string, url: string, bytes: number, done: number, total: number): Promise<void> {
  tally.input++
  tally.bytesIn += bytes
  const doc = tryExtract(html)
  if (doc instanceof Error) tally.drop('parse-error', url, { detail: doc.message, sample: () => ({ url, text: doc.message }) })
  else if (!doc)
    tally.drop('no-main-text', url, {
      sample: () => ({
        url,
        text: html
          .replace(/<[^>]*>/g, ' ')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 400)
      })
    })
  else {
    out.write({ url, title: doc.title, text: doc.text } satisfies DocRecord)
    tally.keep(() => ({ url, title: doc.title, text: doc.text }))
  }
  tally.progress(done, total, 'bytes')
  await job.pausePoint()
}

function tryExtract(html: string): ExtractedText | null | Error {
  try {
    return extractMainText(html)
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err))
  }
}
