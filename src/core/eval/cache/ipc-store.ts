// The request cache as the eval worker reaches it: main owns the SQLite table (workers never touch
// SQLite), so lookups are an eval-cache-get message answered by eval-cache-hits, and new results
// go to main as eval-cache-put messages, which it stores as they arrive.
import type { EvalResult } from '../../../shared/eval'
import { type EvalCacheEntry, MainMessage } from '../../../shared/protocol'
import type { JobContext } from '../../job-context'
import type { EvalCacheStore } from './store'

/** Keys per lookup message, so no single message grows without bound. */
const KEYS_PER_MESSAGE = 5000
const REPLY_TIMEOUT_MS = 120_000

export class IpcEvalCacheStore implements EvalCacheStore {
  private nextId = 0
  private readonly pending = new Map<number, (entries: { key: string; result: EvalResult }[]) => void>()

  constructor(
    private readonly ctx: JobContext,
    channel: NodeJS.Process = process
  ) {
    channel.on('message', (raw) => {
      const parsed = MainMessage.safeParse(raw)
      if (!parsed.success || parsed.data.type !== 'eval-cache-hits') return
      const resolve = this.pending.get(parsed.data.requestId)
      this.pending.delete(parsed.data.requestId)
      resolve?.(parsed.data.entries)
    })
  }

  async get(fingerprint: string, keys: readonly string[]): Promise<Map<string, EvalResult>> {
    const out = new Map<string, EvalResult>()
    for (let s = 0; s < keys.length; s += KEYS_PER_MESSAGE) {
      for (const e of await this.ask(fingerprint, keys.slice(s, s + KEYS_PER_MESSAGE))) out.set(e.key, e.result)
    }
    return out
  }

  put(fingerprint: string, entries: readonly EvalCacheEntry[]): void {
    if (entries.length) this.ctx.report({ type: 'eval-cache-put', fingerprint, entries: [...entries] })
  }

  private ask(fingerprint: string, keys: string[]): Promise<{ key: string; result: EvalResult }[]> {
    const requestId = this.nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId)
        reject(new Error("The workbench did not answer the eval worker's cache lookup in time. Run again, or set noCache."))
      }, REPLY_TIMEOUT_MS)
      this.pending.set(requestId, (entries) => {
        clearTimeout(timer)
        resolve(entries)
      })
      this.ctx.report({ type: 'eval-cache-get', requestId, fingerprint, keys })
    })
  }
}
