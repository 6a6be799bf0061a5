// Keeps downloads off the machine's own network: loopback, private, link-local, unique-local,
// CGNAT, multicast, unspecified and reserved addresses are refused for every hop. The check runs
// twice: on the URL's host before a request (an IP literal, however spelt, never goes through DNS:
// WHATWG URL parsing already turns 127.1, 2130706433 and 0x7f.1 into 127.0.0.1) and inside the
// connection's own DNS lookup, so the address checked is the address connected to and a name that
// rebinds between a check and the connect cannot pass. Hosts the user named explicitly (an eval
// mirror, an intranet crawl's opt-in) are trusted.
import dns from 'node:dns'
import net from 'node:net'
import ipaddr from 'ipaddr.js'
import { Agent, fetch as undiciFetch, type Dispatcher, type RequestInit, type Response } from 'undici'

/** The reason recorded for a refused URL (a failed download, never a fatal error). */
export const PRIVATE_ADDRESS = 'private-address'

export class PrivateAddressError extends Error {
  readonly code = 'EPRIVATEADDRESS'
  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string
  ) {
    super(`${host} is ${host === address ? '' : `at ${address}, `}a ${range} address: downloads from the machine's own network are refused unless allowed for this dataset or source`)
  }
}

/** The range name when `address` is anything but a public unicast address, else null. */
export function forbiddenRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6
  try {
    parsed = ipaddr.process(address.replace(/^\[|\]$/g, ''))
  } catch {
    return 'unparseable'
  }
  const range = parsed.range()
  return range === 'unicast' ? null : range
}

type LookupAddress = { address: string; family: number }
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void
type Resolve = (hostname: string, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void

const systemResolve: Resolve = (hostname, callback) => dns.lookup(hostname, { all: true }, callback)

export interface GuardOptions {
  /** The opt-in for intranet crawls: no check at all. */
  allowPrivate?: boolean
  /** Host names (URL.hostname) the user configured explicitly; they are their own opt-in. */
  trustedHosts?: Iterable<string>
  /** The resolver under the check (tests map a name to 127.0.0.1 with it). */
  resolve?: Resolve
}

export class AddressGuard {
  readonly allowPrivate: boolean
  private readonly trusted: Set<string>
  private readonly resolve: Resolve
  private agent?: Agent

  constructor(options: GuardOptions = {}) {
    this.allowPrivate = options.allowPrivate ?? false
    this.trusted = new Set([...(options.trustedHosts ?? [])].map((h) => h.toLowerCase()))
    this.resolve = options.resolve ?? systemResolve
  }

  private trusts(hostname: string): boolean {
    return this.allowPrivate || this.trusted.has(hostname.toLowerCase())
  }

  /** Before a request: the refusal for a URL whose host is an IP literal in a forbidden range. */
  check(url: string): PrivateAddressError | null {
    const host = new URL(url).hostname
    if (this.trusts(host)) return null
    const bare = host.replace(/^\[|\]$/g, '')
    if (!net.isIP(bare)) return null
    const range = forbiddenRange(bare)
    return range ? new PrivateAddressError(host, bare, range) : null
  }

  /** net's lookup hook: resolves, then refuses the connection if any address is forbidden. */
  readonly lookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback): void => {
    this.resolve(hostname, (err, addresses) => {
      if (err) return callback(err, [])
      if (!this.trusts(hostname)) {
        for (const { address } of addresses) {
          const range = forbiddenRange(address)
          if (range) return callback(new PrivateAddressError(hostname, address, range), [])
        }
      }
      const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses
      if (!wanted.length) return callback(Object.assign(new Error(`no IPv${options.family} address for ${hostname}`), { code: 'ENOTFOUND' }), [])
      if (options.all) callback(null, wanted)
      else callback(null, wanted[0].address, wanted[0].family)
    })
  }

  /** The dispatcher whose connections resolve through `lookup` (one pool per guard). */
  dispatcher(): Dispatcher {
    this.agent ??= new Agent({ connect: { lookup: this.lookup } })
    return this.agent
  }

  /** undici's fetch through the guarded dispatcher; redirects are the caller's (redirect: 'manual'). */
  fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const refused = this.check(url)
    if (refused) return Promise.reject(new TypeError('fetch failed', { cause: refused }))
    return undiciFetch(url, { ...init, dispatcher: this.dispatcher() })
  }

  /**
   * A drop-in for the global fetch that follows redirects by hand, checking every hop: for callers
   * that expect fetch's own redirect handling (the eval-data store).
   */
  readonly fetchFollowing = async (input: string | URL | Request, init: RequestInit = {}, maxRedirects = 10): Promise<Response> => {
    let url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    for (let hop = 0; ; hop++) {
      const res = await this.fetch(url, { ...init, redirect: 'manual' })
      const location = res.headers.get('location')
      if (res.status < 300 || res.status >= 400 || !location) return res
      await res.body?.cancel()
      if (hop >= maxRedirects) throw new TypeError(`more than ${maxRedirects} redirects from ${url}`)
      url = new URL(location, url).href
    }
  }

  async close(): Promise<void> {
    await this.agent?.close()
    this.agent = undefined
  }
}

/** The PrivateAddressError behind a failed fetch, if that is why it failed. */
export function privateAddressCause(err: unknown): PrivateAddressError | null {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) if (e instanceof PrivateAddressError) return e
  return null
}
