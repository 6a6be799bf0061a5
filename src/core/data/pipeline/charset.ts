// Turns HTML bytes into text: the charset from the Content-Type header, else a byte-order mark,
// else a <meta charset> in the first 4 KB, else UTF-8. Unknown labels fall back to UTF-8.
import { decodeCp1252 } from './cp1252'
const META_CHARSET = /<meta[^>]+charset\s*=\s*["']?\s*([a-z0-9_:.-]+)/i

export function charsetFromContentType(contentType: string | null): string | null {
  const match = contentType && /charset\s*=\s*"?([^";\s]+)/i.exec(contentType)
  return match ? match[1].toLowerCase() : null
}

export function decodeHtml(bytes: Uint8Array, contentType: string | null = null): { html: string; charset: string } {
  let charset = charsetFromContentType(contentType)
  if (!charset) {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) charset = 'utf-8'
    else if (bytes[0] === 0xff && bytes[1] === 0xfe) charset = 'utf-16le'
    else if (bytes[0] === 0xfe && bytes[1] === 0xff) charset = 'utf-16be'
    else charset = META_CHARSET.exec(Buffer.from(bytes.subarray(0, 4096)).toString('latin1'))?.[1].toLowerCase() ?? 'utf-8'
  }
  let decoder: InstanceType<typeof TextDecoder>
  try {
    decoder = new TextDecoder(charset)
  } catch {
    decoder = new TextDecoder('utf-8')
    charset = 'utf-8'
  }
  // WHATWG maps latin1, ascii and windows-1252 labels all to windows-1252.
  if (decoder.encoding === 'windows-1252') return { html: decodeCp1252(bytes), charset }
  return { html: decoder.decode(bytes), charset }
}
