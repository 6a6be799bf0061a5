// GPT-2's byte-pair encoding (r50k_base) via gpt-tokenizer. Special-token text inside documents is
// encoded as ordinary text (web pages do contain "<|endoftext|>"); the real end-of-text id is
// appended by the caller between documents, never parsed out of text.
//
// Decoding does not use gpt-tokenizer's decode(): in version 4 every call goes through one
// module-wide streaming TextDecoder, so a call that ends inside a UTF-8 character leaves its bytes
// behind and they come out at the front of the next call's text. Streaming generation and eval's
// greedy decoding decode unfinished sequences all the time, so ids are turned into bytes from the
// BPE table and decoded with a fresh decoder per call: an unfinished character ends as U+FFFD.
import * as bpeRanks from 'gpt-tokenizer/bpeRanks/r50k_base'
import { encode } from 'gpt-tokenizer/encoding/r50k_base'

export const GPT2_VOCAB_SIZE = 50257
export const END_OF_TEXT = 50256

const NO_SPECIALS = { disallowedSpecial: new Set<string>() }

export function encodeText(text: string): number[] {
  return encode(text, NO_SPECIALS)
}

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
const byteCache = new Map<number, Uint8Array>()

/** The bytes a token stands for (end-of-text as its text; ids outside the table as nothing). */
export function tokenBytes(id: number): Uint8Array {
  let bytes = byteCache.get(id)
  if (bytes) return bytes
  const entry = id === END_OF_TEXT ? '<|endoftext|>' : table[id]
  bytes = entry === undefined ? new Uint8Array(0) : typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry)
  byteCache.set(id, bytes)
  return bytes
}

export function decodeTokens(ids: Iterable<number>): string {
  const parts = Array.from(ids, tokenBytes)
  const all = new Uint8Array(parts.reduce((n, b) => n + b.length, 0))
  let at = 0
  for (const b of parts) {
    all.set(b, at)
    at += b.length
  }
  return new TextDecoder('utf-8').decode(all)
}
