// Token ids to text without shared state. gpt-tokenizer 4's decode() runs every call through one
// module-wide streaming TextDecoder, so a call that ends inside a UTF-8 character leaves its bytes
// behind and they come out at the front of the next call's text. Generation decodes unfinished
// sequences all the time (streaming, single-token pieces), so it decodes here, from the BPE
// table's bytes, with a fresh decoder per call: an unfinished character ends as U+FFFD instead.
import * as bpeRanks from 'gpt-tokenizer/bpeRanks/r50k_base'
import { END_OF_TEXT } from '../data/gpt2-tokenizer'

type Table = readonly (string | readonly number[])[]

/** The CommonJS module's `default` export, however many interop layers the bundler put around it. */
function unwrap(mod: unknown): Table {
  let m = mod
  for (let i = 0; i < 3 && !Array.isArray(m); i++) m = (m as { default?: unknown }).default
  if (!Array.isArray(m)) throw new Error('gpt-tokenizer/bpeRanks/r50k_base did not load as the GPT-2 BPE table.')
  return m as Table
}

const table = unwrap(bpeRanks)
const utf8 = new TextEncoder()
const cache = new Map<number, Uint8Array>()

/** The bytes a token stands for (end-of-text as its text; ids outside the table as nothing). */
export function tokenBytes(id: number): Uint8Array {
  let bytes = cache.get(id)
  if (bytes) return bytes
  const entry = id === END_OF_TEXT ? '<|endoftext|>' : table[id]
  bytes = entry === undefined ? new Uint8Array(0) : typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry)
  cache.set(id, bytes)
  return bytes
}

export function decodeIds(ids: readonly number[]): string {
  let size = 0
  for (const id of ids) size += tokenBytes(id).length
  const all = new Uint8Array(size)
  let at = 0
  for (const id of ids) {
    const b = tokenBytes(id)
    all.set(b, at)
    at += b.length
  }
  return new TextDecoder('utf-8').decode(all)
}
