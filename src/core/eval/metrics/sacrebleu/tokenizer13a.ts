// sacrebleu's default BLEU tokenizer "13a" (mteval-v13a.pl): unescape a few entities, then split
// punctuation and symbols, periods and commas except inside numbers, and dashes after digits.

const SYMBOLS = /([{-~[-` -&(-+:-@/])/g
const PERIOD_COMMA_AFTER_NON_DIGIT = /([^0-9])([.,])/g
const PERIOD_COMMA_BEFORE_NON_DIGIT = /([.,])([^0-9])/g
const DASH_AFTER_DIGIT = /([0-9])(-)/g

export function tokenize13a(input: string): string {
  let line = input.replaceAll('<skipped>', '').replaceAll('-\n', '').replaceAll('\n', ' ').replaceAll('&quot;', '"').replaceAll('&amp;', '&').replaceAll('&lt;', '<').replaceAll('&gt;', '>')
  line = ` ${line} `
  line = line.replace(SYMBOLS, ' $1 ')
  line = line.replace(PERIOD_COMMA_AFTER_NON_DIGIT, '$1 $2 ')
  line = line.replace(PERIOD_COMMA_BEFORE_NON_DIGIT, ' $1 $2')
  line = line.replace(DASH_AFTER_DIGIT, '$1 $2 ')
  return line.trim().split(/\s+/).filter(Boolean).join(' ')
}
