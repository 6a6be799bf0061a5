// ftfy-style text repair (no ftfy port exists for JS). The core is ftfy's: text that was UTF-8
// but got decoded as Windows-1252 (or Latin-1) shows as "â€™" or "Ã©"; re-encoding such runs
// to cp1252 bytes and decoding them as UTF-8 gets the intended text back. Then, as ftfy's
// defaults do: HTML entities in tag-free text, control characters, curly quotes, ligatures,
// full-width ASCII, NFC, and tidier whitespace.
import { CP1252_REVERSE } from './cp1252'

// A character that stands for a UTF-8 continuation byte (0x80-0xBF) once decoded as cp1252 or Latin-1.
const CONT =
  '[\\u0080-\\u00BF\\u20AC\\u201A\\u0192\\u201E\\u2026\\u2020\\u2021\\u02C6\\u2030\\u0160\\u2039\\u0152\\u017D\\u2018\\u2019\\u201C\\u201D\\u2022\\u2013\\u2014\\u02DC\\u2122\\u0161\\u203A\\u0153\\u017E\\u0178]'
const MOJIBAKE = new RegExp(`(?:[\\u00C2-\\u00DF]${CONT}|[\\u00E0-\\u00EF]${CONT}{2}|[\\u00F0-\\u00F4]${CONT}{3})+`, 'g')
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

// Control characters are exactly what this pattern is for.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFEFF\u200B\uFFF9-\uFFFB]/g
const QUOTES: Record<string, string> = { '\u2018': "'", '\u2019': "'", '\u201A': "'", '\u201B': "'", '\u201C': '"', '\u201D': '"', '\u201E': '"', '\u201F': '"' }
const LIGATURES: Record<string, string> = { '\uFB00': 'ff', '\uFB01': 'fi', '\uFB02': 'fl', '\uFB03': 'ffi', '\uFB04': 'ffl', '\uFB05': 'st', '\uFB06': 'st', '\u0132': 'IJ', '\u0133': 'ij' }
const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00A0',
  mdash: '\u2014',
  ndash: '\u2013',
  hellip: '\u2026',
  rsquo: '\u2019',
  lsquo: '\u2018',
  rdquo: '\u201D',
  ldquo: '\u201C',
  copy: '\u00A9',
  reg: '\u00AE',
  trade: '\u2122'
}

export interface RepairStats {
  mojibake: number
  entities: number
  controls: number
  quotes: number
  other: number
}

export const emptyRepairStats = (): RepairStats => ({ mojibake: 0, entities: 0, controls: 0, quotes: 0, other: 0 })

/** Re-decodes runs that read as UTF-8 bytes shown through cp1252; repeats for double encoding. */
export function fixMojibake(text: string, stats?: RepairStats): string {
  let current = text
  for (let pass = 0; pass < 3; pass++) {
    let changed = false
    current = current.replace(MOJIBAKE, (run) => {
      const bytes = new Uint8Array(run.length)
      for (let i = 0; i < run.length; i++) {
        const code = run.charCodeAt(i)
        bytes[i] = code <= 0xff ? code : CP1252_REVERSE.get(code)!
      }
      try {
        const fixed = STRICT_UTF8.decode(bytes)
        changed = true
        if (stats) stats.mojibake++
        return fixed
      } catch {
        return run
      }
    })
    if (!changed) break
  }
  return current
}

function unescapeEntities(text: string, stats?: RepairStats): string {
  // As ftfy: only in text without tags, where an entity cannot be meant literally as markup.
  if (/<[a-z/!]/i.test(text) || !text.includes('&')) return text
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (all, name: string) => {
    let out: string | undefined
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      out = code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined
    } else out = ENTITIES[name.toLowerCase()]
    if (out === undefined) return all
    if (stats) stats.entities++
    return out
  })
}

const count = (stats: RepairStats | undefined, key: keyof RepairStats) => (): void => {
  if (stats) stats[key]++
}

/** The whole repair, in ftfy's order of concerns. */
export function repairText(input: string, stats?: RepairStats): string {
  let text = fixMojibake(input, stats)
  text = unescapeEntities(text, stats)
  text = text.replace(/\r\n?/g, '\n')
  text = text.replace(CONTROL, () => (count(stats, 'controls')(), ''))
  text = text.replace(/[\u2018-\u201F]/g, (q) => (QUOTES[q] ? (count(stats, 'quotes')(), QUOTES[q]) : q))
  text = text.replace(/[\uFB00-\uFB06\u0132\u0133]/g, (l) => (count(stats, 'other')(), LIGATURES[l] ?? l))
  text = text.replace(/[\uFF01-\uFF5E]/g, (c) => (count(stats, 'other')(), String.fromCharCode(c.charCodeAt(0) - 0xfee0))).replace(/\u3000/g, ' ')
  text = text.normalize('NFC')
  return text
    .split('\n')
    .map((line) => line.replace(/[ \t\u00A0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
