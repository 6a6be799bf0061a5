// Windows-1252, by hand: Node 20's TextDecoder('windows-1252') decodes 0x80-0x9F as Latin-1
// control characters instead of cp1252's punctuation (curly quotes, dashes, euro), and both the
// page decoder and the mojibake repair need the real table.

/** cp1252 bytes 0x80-0x9F as code points (0x81, 0x8D, 0x8F, 0x90, 0x9D are unassigned: kept as C1). */
export const CP1252_80_9F = [
  0x20ac, 0x81, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8d, 0x017d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc,
  0x2122, 0x0161, 0x203a, 0x0153, 0x9d, 0x017e, 0x0178
]

/** Code point -> cp1252 byte for the characters of 0x80-0x9F that are not Latin-1's. */
export const CP1252_REVERSE: ReadonlyMap<number, number> = new Map(CP1252_80_9F.map((cp, i) => [cp, 0x80 + i] as [number, number]).filter(([cp]) => cp > 0xff))

export function decodeCp1252(bytes: Uint8Array): string {
  const parts: string[] = []
  const CHUNK = 8192
  for (let start = 0; start < bytes.length; start += CHUNK) {
    const codes = Array.from(bytes.subarray(start, start + CHUNK), (b) => (b >= 0x80 && b <= 0x9f ? CP1252_80_9F[b - 0x80] : b))
    parts.push(String.fromCharCode(...codes))
  }
  return parts.join('')
}
