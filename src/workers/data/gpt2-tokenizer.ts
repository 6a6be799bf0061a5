// GPT-2's byte-pair encoding (r50k_base) via gpt-tokenizer. Special-token text inside documents is
// encoded as ordinary text (web pages do contain "<|endoftext|>"); the real end-of-text id is
// appended by the caller between documents, never parsed out of text.
import { decode, encode } from 'gpt-tokenizer/encoding/r50k_base'

export const GPT2_VOCAB_SIZE = 50257
export const END_OF_TEXT = 50256

const NO_SPECIALS = { disallowedSpecial: new Set<string>() }

export function encodeText(text: string): number[] {
  return encode(text, NO_SPECIALS)
}

export function decodeTokens(ids: Iterable<number>): string {
  return decode(ids)
}
