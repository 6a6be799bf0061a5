// Small pieces of Python string semantics the harness's normalisations rely on.

/** string.punctuation */
export const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')

/** str.split() with no argument: runs of whitespace, no empty strings. */
export function pySplit(s: string): string[] {
  return s.split(/\s+/u).filter((t) => t.length > 0)
}

/** re.sub(r"\b(a|an|the)\b", " ", text) with Unicode word boundaries, as re.UNICODE does. */
export function removeArticles(s: string): string {
  return s.replace(/(?<![\p{L}\p{N}_])(a|an|the)(?![\p{L}\p{N}_])/gu, ' ')
}

/** Whether Python's float(text) accepts the string (decimal, exponent, underscores, inf, nan). */
export function isPyFloat(text: string): boolean {
  const digits = String.raw`\d(?:_?\d)*`
  const number = String.raw`(?:(?:${digits})?\.${digits}|${digits}\.?)(?:[eE][+-]?${digits})?`
  return new RegExp(String.raw`^\s*[+-]?(?:${number}|inf|infinity|nan)\s*$`, 'i').test(text)
}

/** str(float(text)): Python's shortest repr, fixed notation for exponents -4..15, else 1e+16 style. */
export function pyFloatRepr(text: string): string {
  const x = Number(
    text
      .trim()
      .replace(/_/g, '')
      .replace(/^([+-]?)inf(inity)?$/i, '$1Infinity')
  )
  if (Number.isNaN(x) || /nan/i.test(text)) return 'nan'
  if (x === Infinity) return 'inf'
  if (x === -Infinity) return '-inf'
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0'
  const [mantissa, expPart] = x.toExponential().split('e')
  const exp = Number(expPart)
  const sign = mantissa.startsWith('-') ? '-' : ''
  const digitString = mantissa.replace('-', '').replace('.', '')
  if (exp >= -4 && exp < 16) {
    let s: string
    if (exp >= 0) {
      const intPart = digitString.slice(0, exp + 1).padEnd(exp + 1, '0')
      const frac = digitString.slice(exp + 1)
      s = `${intPart}.${frac || '0'}`
    } else {
      s = `0.${'0'.repeat(-exp - 1)}${digitString}`
    }
    return sign + s
  }
  const m = digitString.length > 1 ? `${digitString[0]}.${digitString.slice(1)}` : digitString
  const e = Math.abs(exp) < 10 ? `0${Math.abs(exp)}` : String(Math.abs(exp))
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`
}

/** Python's round(x, 2) for the values DROP's F1 takes: exact ties (k/8) go to the even neighbour. */
export function pyRound2(x: number): number {
  const eighths = x * 8
  if (Number.isInteger(eighths) && eighths % 2 !== 0) {
    const lower = Math.floor(x * 100) / 100
    const upper = lower + 0.01
    const lowerEven = Math.round(lower * 100) % 2 === 0
    return Number((lowerEven ? lower : upper).toFixed(2))
  }
  return Number(x.toFixed(2))
}
