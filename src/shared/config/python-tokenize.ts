// Splits the Python subset of config files into tokens: names, numbers, strings, operators and
// logical line ends (newlines inside brackets and after a backslash join lines, as in Python).

export class PythonConfigError extends Error {
  constructor(
    readonly line: number,
    message: string
  ) {
    super(`line ${line}: ${message}`)
  }
}

export type TokenType = 'name' | 'number' | 'string' | 'op' | 'newline' | 'eof'
export interface Token {
  type: TokenType
  value: string
  line: number
  start: number
  end: number
  /** For numbers: the parsed value; for strings: the decoded text. */
  literal?: number | string
  /** The first token of a logical line starts at column 0. */
  indented?: boolean
}

export const STATEMENT_KEYWORDS = new Set([
  'def',
  'class',
  'if',
  'elif',
  'else',
  'for',
  'while',
  'with',
  'try',
  'except',
  'finally',
  'return',
  'lambda',
  'del',
  'global',
  'nonlocal',
  'assert',
  'raise',
  'yield',
  'async',
  'await',
  'pass',
  'break',
  'continue'
])
const OPERATORS = [
  '**=',
  '//=',
  '>>=',
  '<<=',
  '**',
  '//',
  '==',
  '!=',
  '<=',
  '>=',
  '+=',
  '-=',
  '*=',
  '/=',
  '%=',
  '->',
  ':=',
  '+',
  '-',
  '*',
  '/',
  '%',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  ':',
  '.',
  '=',
  '<',
  '>',
  '@',
  '&',
  '|',
  '^',
  '~',
  ';'
]

export function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  let line = 1
  let depth = 0
  let lineStart = true
  const push = (t: Omit<Token, 'line'>, startLine = line): void => {
    tokens.push({ ...t, line: startLine })
  }
  while (i < source.length) {
    const ch = source[i]
    if (ch === '\n') {
      if (depth === 0 && tokens.length && tokens.at(-1)!.type !== 'newline') push({ type: 'newline', value: '\n', start: i, end: i + 1 })
      line++
      i++
      lineStart = true
      continue
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f') {
      i++
      continue
    }
    if (ch === '#') {
      while (i < source.length && source[i] !== '\n') i++
      continue
    }
    if (ch === '\\' && (source[i + 1] === '\n' || (source[i + 1] === '\r' && source[i + 2] === '\n'))) {
      i += source[i + 1] === '\n' ? 2 : 3
      line++
      continue
    }
    const indented = lineStart && depth === 0 && i > 0 && source[i - 1] !== '\n'
    lineStart = false
    const stringMatch = /^([rRbBuUfF]{0,2})('''|"""|'|")/.exec(source.slice(i, i + 5))
    if (stringMatch) {
      const prefix = stringMatch[1].toLowerCase()
      if (prefix.includes('f')) throw new PythonConfigError(line, 'f-strings are not read (they need Python to evaluate); write a plain string.')
      const quote = stringMatch[2]
      const startLine = line
      let j = i + stringMatch[0].length
      let text = ''
      for (;;) {
        if (j >= source.length) throw new PythonConfigError(startLine, 'a string is not closed.')
        if (source.startsWith(quote, j)) break
        const c = source[j]
        if (c === '\n') {
          if (quote.length === 1) throw new PythonConfigError(startLine, 'a string is not closed before the end of the line.')
          line++
        }
        if (c === '\\' && !prefix.includes('r')) {
          const next = source[j + 1]
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', '\n': '' }
          if (next === '\n') line++
          text += next in escapes ? escapes[next] : '\\' + next
          j += 2
          continue
        }
        text += c
        j++
      }
      push({ type: 'string', value: source.slice(i, j + quote.length), start: i, end: j + quote.length, literal: text, indented }, startLine)
      i = j + quote.length
      continue
    }
    const numberMatch = /^(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*\.?[\d_]*|\.\d[\d_]*)([eE][+-]?\d[\d_]*)?)([jJ])?/.exec(source.slice(i))
    if (numberMatch && /[\d.]/.test(ch) && numberMatch[0] !== '.') {
      if (numberMatch[4]) throw new PythonConfigError(line, `complex number ${numberMatch[0]} is not supported.`)
      const raw = numberMatch[0].replace(/_/g, '')
      const literal = /^0[xob]/i.test(raw) ? Number(raw.toLowerCase()) : Number(raw)
      push({ type: 'number', value: numberMatch[0], start: i, end: i + numberMatch[0].length, literal, indented })
      i += numberMatch[0].length
      continue
    }
    const nameMatch = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))
    if (nameMatch) {
      push({ type: 'name', value: nameMatch[0], start: i, end: i + nameMatch[0].length, indented })
      i += nameMatch[0].length
      continue
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i))
    if (!op) throw new PythonConfigError(line, `unexpected character ${JSON.stringify(ch)}.`)
    if ('([{'.includes(op)) depth++
    if (')]}'.includes(op)) depth = Math.max(0, depth - 1)
    push({ type: 'op', value: op, start: i, end: i + op.length, indented })
    i += op.length
  }
  if (tokens.length && tokens.at(-1)!.type !== 'newline') tokens.push({ type: 'newline', value: '\n', line, start: i, end: i })
  tokens.push({ type: 'eof', value: '', line, start: i, end: i })
  return tokens
}
