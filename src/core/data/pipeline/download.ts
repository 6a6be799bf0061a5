// Stage 3, download: fetches the kept URLs with a concurrency limit, per-host politeness and
// retries with exponential backoff. Pages go to an append-only cache (raw.jsonl), failures with
// their reason to download-failures.jsonl; a URL found in either is never fetched again, so a
// rerun after a crash or a restart picks up where the last one stopped. Failures never stop the job.
import fs from 'node:fs'
import path from 'node:path'
import { AddressGuard, PRIVATE_ADDRESS } from './address-guard'
import { FILES } from './files'
import { type FetchedPage, fetchPage } from './fetch-page'
import { HostGate, interleaveByHost } from './host-gate'
import { AppendLog, readJsonl, truncatePartialTail } from './jsonl'
import type { StageDef } from './stage'
import { readKeptUrls } from './url-filter'

export interface StoredPage extends FetchedPage {
  fetchedAt: number
}

export interface DownloadFailure {
  url: string
  reason: string
  detail: string
  attempts: number
  at: number
}

/** What the caches already hold: each URL's page (offset in raw.jsonl) or failure. */
export async function readDownloadCache(dir: string): Promise<{ pages: Map<string, number>; failures: Map<string, DownloadFailure> }> {
  const pages = new Map<string, number>()
  const failures = new Map<string, DownloadFailure>()
  const pagesFile = path.join(dir, FILES.pages)
  const failuresFile = path.join(dir, FILES.failures)
  truncatePartialTail(pagesFile)
  truncatePartialTail(failuresFile)
  if (fs.existsSync(pagesFile)) for await (const { value, offset } of readJsonl<StoredPage>(pagesFile)) pages.set(value.url, offset)
  if (fs.existsSync(failuresFile)) for await (const { value } of readJsonl<DownloadFailure>(failuresFile)) if (!pages.has(value.url)) failures.set(value.url, value)
  return { pages, failures }
}

/** Failures another try may cure (with download.retryFailed). */
const TRANSIENT = /^(timeout|network|http-429|http-5\d\d)$/

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const downloadStage: StageDef = {
  name: 'download',
  fingerprint: (config) => ({
    contentTypes: config.download.contentTypes,
    maxBytes: config.download.maxBytes,
    retryFailed: config.download.retryFailed,
    allowPrivateAddresses: config.download.allowPrivateAddresses
  }),
  async run({ dir, config, job, tally }) {
    const cfg = config.download
    const urls = await readKeptUrls(dir)
    const cache = await readDownloadCache(dir)
    const todo: string[] = []
    for (const url of urls) {
      tally.input++
      const stored = cache.failures.get(url)
      const retry = stored && ((cfg.retryFailed && TRANSIENT.test(stored.reason)) || (cfg.allowPrivateAddresses && stored.reason === PRIVATE_ADDRESS))
      const failure = stored && !retry ? stored : undefined
      if (cache.pages.has(url)) {
        tally.keep()
        tally.note('cached')
      } else if (failure) {
        tally.drop(failure.reason, url, { detail: failure.detail, sample: () => ({ url, text: failure.detail }) })
        tally.note('cached')
      } else todo.push(url)
    }
    if (urls.length && !todo.length) job.log(`All ${urls.length} URLs are already downloaded or recorded as failed; nothing to fetch.`)
    else if (todo.length) job.log(`Fetching ${todo.length} of ${urls.length} URLs (${urls.length - todo.length} already stored), ${cfg.concurrency} at a time.`)

    const pages = new AppendLog(path.join(dir, FILES.pages))
    const failures = new AppendLog(path.join(dir, FILES.failures))
    const gate = new HostGate(cfg.perHostDelayMs)
    const guard = new AddressGuard({ allowPrivate: cfg.allowPrivateAddresses })
    const queue = interleaveByHost(todo)
    let next = 0
    let done = urls.length - todo.length
    let stop: unknown = null

    const fetchWithRetries = async (url: string): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        const outcome = await fetchPage(url, cfg, (u) => gate.wait(new URL(u).host), guard)
        if (outcome.ok) {
          pages.append({ ...outcome.page, fetchedAt: Date.now() } satisfies StoredPage)
          tally.keep(() => ({ url, text: `${outcome.page.bytes} bytes, ${outcome.page.contentType || 'no content type'}` }))
          tally.bytesIn += outcome.page.bytes
          return
        }
        if (!outcome.retryable || attempt > cfg.retries || stop) {
          failures.append({ url, reason: outcome.reason, detail: outcome.detail, attempts: attempt, at: Date.now() } satisfies DownloadFailure)
          tally.drop(outcome.reason, url, { detail: outcome.detail, sample: () => ({ url, text: outcome.detail }) })
          return
        }
        const backoff = cfg.backoffMs * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)
        tally.note('retries')
        await sleep(Math.max(backoff, outcome.retryAfterMs ?? 0))
      }
    }

    const worker = async (): Promise<void> => {
      while (!stop && next < queue.length) {
        const url = queue[next++]
        await fetchWithRetries(url)
        done++
        tally.progress(done, urls.length, 'pages')
        try {
          await job.pausePoint()
        } catch (err) {
          stop ??= err
        }
      }
    }
    try {
      await Promise.all(Array.from({ length: Math.min(cfg.concurrency, queue.length) }, worker))
    } finally {
      pages.close()
      failures.close()
      await guard.close()
    }
    if (stop) throw stop
    tally.progress(urls.length, urls.length, 'pages')
    return [FILES.pages, FILES.failures]
  }
}
