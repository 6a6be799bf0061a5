// Where cached request results live, as the eval worker sees it: main's SQLite over IPC in the
// worker (ipc-store.ts); tests may hand the evaluator any implementation.
import type { EvalResult } from '../../../shared/eval'
import type { EvalCacheEntry } from '../../../shared/protocol'

export interface EvalCacheStore {
  /** The stored results among these keys (absent keys were never stored). */
  get(fingerprint: string, keys: readonly string[]): Promise<Map<string, EvalResult>>
  /** Stores freshly computed results; called after every chunk so a killed run keeps them. */
  put(fingerprint: string, entries: readonly EvalCacheEntry[]): void
}
