// Politeness: at most one request start per host every `delayMs`. Slots are handed out in the
// order asked, so a host's requests queue up instead of racing.
export class HostGate {
  private readonly nextAt = new Map<string, number>()

  constructor(private readonly delayMs: number) {}

  /** Resolves when a request to `host` may start. */
  async wait(host: string): Promise<void> {
    if (this.delayMs <= 0) return
    const now = Date.now()
    const at = Math.max(now, this.nextAt.get(host) ?? 0)
    this.nextAt.set(host, at + this.delayMs)
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now))
  }
}

/** Orders URLs round-robin across hosts, so concurrent workers spread over hosts. */
export function interleaveByHost(urls: string[]): string[] {
  const byHost = new Map<string, string[]>()
  for (const url of urls) {
    const host = new URL(url).host
    const list = byHost.get(host)
    if (list) list.push(url)
    else byHost.set(host, [url])
  }
  const queues = [...byHost.values()]
  const out: string[] = []
  for (let i = 0; out.length < urls.length; i++) for (const q of queues) if (i < q.length) out.push(q[i])
  return out
}
