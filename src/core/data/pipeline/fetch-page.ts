// Fetches one page with undici's fetch through the address guard: redirects followed by hand
// (counted, http(s) only, each hop checked against private addresses), one timeout over the whole
// request, a size cap enforced while the body streams, and a content-type check before the body is
// read. Never throws: failures come back with a reason and whether a retry could help.
import type { Response } from 'undici'
import type { PrepareConfig } from '../../../shared/config/prepare'
import { AddressGuard, PRIVATE_ADDRESS, privateAddressCause } from './address-guard'
import { decodeHtml } from './charset'

export interface FetchedPage {
  url: string
  finalUrl: string
  status: number
  contentType: string
  charset: string
  bytes: number
  html: string
}

export type FetchOutcome = { ok: true; page: FetchedPage } | { ok: false; reason: string; detail: string; retryable: boolean; retryAfterMs?: number }

type DownloadSettings = PrepareConfig['download']

const fail = (reason: string, detail: string, retryable = false, retryAfterMs?: number): FetchOutcome => ({ ok: false, reason, detail, retryable, retryAfterMs })

/** `guard`: the stage's shared one (a pool of connections); without it one is made from the settings for this page. */
export async function fetchPage(url: string, cfg: DownloadSettings, beforeRequest?: (url: string) => Promise<void>, guard?: AddressGuard): Promise<FetchOutcome> {
  const ownGuard = guard ? undefined : new AddressGuard({ allowPrivate: cfg.allowPrivateAddresses })
  const guarded = guard ?? ownGuard!
  const controller = new AbortController()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, cfg.timeoutMs)
  try {
    let current = url
    for (let hop = 0; ; hop++) {
      const refused = guarded.check(current)
      if (refused) return fail(PRIVATE_ADDRESS, hop ? `redirected to ${current}: ${refused.message}` : refused.message)
      await beforeRequest?.(current)
      const res = await guarded.fetch(current, {
        redirect: 'manual',
        signal: controller.signal,
        headers: { 'user-agent': cfg.userAgent, accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.1' }
      })
      if (res.status >= 300 && res.status < 400 && res.headers.has('location')) {
        await res.body?.cancel()
        if (hop >= cfg.maxRedirects) return fail('too-many-redirects', `more than ${cfg.maxRedirects} redirects, last to ${res.headers.get('location')}`)
        let next: URL
        try {
          next = new URL(res.headers.get('location')!, current)
        } catch {
          return fail('bad-redirect', `unparseable Location: ${res.headers.get('location')}`)
        }
        if (next.protocol !== 'http:' && next.protocol !== 'https:') return fail('bad-redirect', `redirect to ${next.protocol} URL`)
        current = next.href
        continue
      }
      if (res.status !== 200) {
        await res.body?.cancel()
        const retryable = res.status === 429 || res.status >= 500
        return fail(`http-${res.status}`, `${res.status} ${res.statusText}`, retryable, retryAfter(res.headers.get('retry-after')))
      }
      const contentType = res.headers.get('content-type') ?? ''
      const mime = contentType.split(';')[0].trim().toLowerCase()
      if (mime && !cfg.contentTypes.includes(mime)) {
        await res.body?.cancel()
        return fail('not-html', `content type ${mime}`)
      }
      const declared = Number(res.headers.get('content-length'))
      if (declared > cfg.maxBytes) {
        await res.body?.cancel()
        return fail('too-large', `Content-Length ${declared} bytes is over the ${cfg.maxBytes}-byte cap`)
      }
      const body = await readCapped(res, cfg.maxBytes)
      if (!body) return fail('too-large', `body is over the ${cfg.maxBytes}-byte cap`)
      if (!mime && !looksLikeHtml(body)) return fail('not-html', 'no content type and the body is not HTML')
      const { html, charset } = decodeHtml(body, contentType)
      return { ok: true, page: { url, finalUrl: current, status: res.status, contentType, charset, bytes: body.length, html } }
    }
  } catch (err) {
    if (timedOut) return fail('timeout', `no complete answer within ${cfg.timeoutMs} ms`, true)
    const refused = privateAddressCause(err)
    if (refused) return fail(PRIVATE_ADDRESS, refused.message)
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    const code = cause?.code ?? ''
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return fail('dns', `host not found (${code})`, code === 'EAI_AGAIN')
    return fail('network', cause?.message ?? (err as Error).message, true)
  } finally {
    clearTimeout(timer)
    await ownGuard?.close()
  }
}

/** Reads the body, or returns null (and cancels the rest) once it passes `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<Uint8Array | null> {
  if (!res.body) return new Uint8Array(0)
  const reader = res.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return Buffer.concat(chunks)
    total += value.length
    if (total > maxBytes) {
      reader.cancel().catch(() => {})
      return null
    }
    chunks.push(value)
  }
}

function looksLikeHtml(body: Uint8Array): boolean {
  const head = Buffer.from(body.subarray(0, 1024)).toString('latin1').trimStart().toLowerCase()
  return head.startsWith('<!doctype html') || head.startsWith('<html') || /<(head|body|title|p)[\s>]/.test(head)
}

function retryAfter(header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.min(seconds * 1000, 60_000)
  const at = Date.parse(header)
  return Number.isFinite(at) ? Math.min(Math.max(at - Date.now(), 0), 60_000) : undefined
}
