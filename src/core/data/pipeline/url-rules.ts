// URL normalisation and Megatron's blacklist rules (blacklist_urls.py): URLs that are too short,
// malformed, on a blacklisted domain or ending in a blacklisted extension are dropped, and so are
// duplicates after normalisation.
import type { PrepareConfig } from '../../../shared/config/prepare'

export type UrlVerdict = { url: string } | { reason: 'too-short' | 'malformed' | 'blacklisted-domain' | 'blacklisted-extension' | 'duplicate' }

const TRACKING_PARAMS = /^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid)$/i
// Second-level labels under country codes (example.co.uk): the name is the label before them.
const SECOND_LEVEL = new Set(['co', 'com', 'net', 'org', 'gov', 'ac', 'edu', 'or', 'ne', 'go', 'mil', 'gob', 'nic', 'ltd', 'plc'])
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/
const HOSTNAME = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{2,59})\.?$/

/** Parses and normalises a URL: http(s) only, a real host, no fragment, no tracking parameters. */
export function normaliseUrl(raw: string, dropTracking = true): string | null {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    return null
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null
  if (url.username || url.password) return null
  const host = url.hostname
  if (!(IPV4.test(host) || (host.startsWith('[') && host.endsWith(']')) || HOSTNAME.test(host))) return null
  url.hash = ''
  if (dropTracking && url.search) {
    for (const key of [...url.searchParams.keys()]) if (TRACKING_PARAMS.test(key)) url.searchParams.delete(key)
    if (![...url.searchParams.keys()].length) url.search = ''
  }
  return url.href
}

/** The registered domain's name, as tldextract's `domain` (news.bbc.co.uk -> "bbc"). */
export function domainName(host: string): string {
  const h = host.toLowerCase().replace(/\.$/, '')
  if (IPV4.test(h) || h.startsWith('[')) return h
  const labels = h.split('.')
  if (labels.length === 1) return labels[0]
  let i = labels.length - 2
  if (labels.length >= 3 && labels[labels.length - 1].length === 2 && SECOND_LEVEL.has(labels[i])) i--
  return labels[i]
}

/** Decides URL by URL; `seen` collects the URLs kept so far (for duplicates). */
export class UrlFilter {
  private readonly names = new Set<string>()
  private readonly suffixes: string[] = []
  private readonly extensions: string[]
  private readonly seen = new Set<string>()

  constructor(private readonly cfg: PrepareConfig['urlFilter']) {
    // An entry with a dot ("example.com") blocks that host and its subdomains; one without
    // ("google") blocks every registered domain of that name, as Megatron's list does.
    for (const entry of cfg.domainBlacklist) {
      if (entry.includes('.')) this.suffixes.push(entry.replace(/^\*?\./, ''))
      else this.names.add(entry)
    }
    this.extensions = cfg.extensionBlacklist
  }

  check(raw: string): UrlVerdict {
    const trimmed = raw.trim()
    if (trimmed.length <= this.cfg.maxShortLength) return { reason: 'too-short' }
    const url = normaliseUrl(trimmed, this.cfg.dropTrackingParams)
    if (!url) return { reason: 'malformed' }
    const parsed = new URL(url)
    const host = parsed.hostname
    if (this.names.has(domainName(host)) || this.suffixes.some((s) => host === s || host.endsWith('.' + s))) return { reason: 'blacklisted-domain' }
    const pathname = decodeSafely(parsed.pathname).toLowerCase()
    if (this.extensions.some((ext) => pathname.endsWith(ext))) return { reason: 'blacklisted-extension' }
    if (this.seen.has(url)) return { reason: 'duplicate' }
    this.seen.add(url)
    return { url }
  }
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    return text
  }
}
