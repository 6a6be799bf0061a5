// GPT-2 token counts for the length filter, bounded: a document is only tokenized as far as it
// takes to know it reaches the threshold.
import { encodeText } from '../gpt2-tokenizer'
import { safeCut } from '../tokenize'

/** The number of GPT-2 tokens in `text` if under `atLeast`, otherwise some number >= `atLeast`. */
export function countTokensUpTo(text: string, atLeast: number): number {
  if (atLeast <= 0) return 0
  // A GPT-2 token covers 4 characters of English on average; 8 per token leaves a wide margin.
  const window = atLeast * 8
  if (text.length > window) {
    const cut = safeCut(text.slice(0, window))
    if (cut > 0) {
      const prefix = encodeText(text.slice(0, cut)).length
      if (prefix >= atLeast) return prefix
    }
  }
  return encodeText(text).length
}
