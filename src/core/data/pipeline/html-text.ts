// Main text from an HTML page: linkedom parses it (a DOM without a script engine, so nothing on
// the page runs), @mozilla/readability (Firefox Reader View) picks the article, and a walk over
// the article's DOM turns blocks into paragraphs. Title and text come back; null when the page
// has no readable main text.
import { Readability } from '@mozilla/readability'
import { parseHTML } from 'linkedom'

export interface ExtractedText {
  title: string
  text: string
}

const DROP = 'script, style, noscript, template, iframe, object, embed, svg, canvas, form, nav, footer'
const BLOCK = new Set([
  'ADDRESS',
  'ARTICLE',
  'ASIDE',
  'BLOCKQUOTE',
  'DD',
  'DIV',
  'DL',
  'DT',
  'FIGCAPTION',
  'FIGURE',
  'H1',
  'H2',
  'H3',
  'H4',
  'H5',
  'H6',
  'HEADER',
  'HR',
  'LI',
  'MAIN',
  'OL',
  'P',
  'PRE',
  'SECTION',
  'TABLE',
  'TBODY',
  'TD',
  'TH',
  'THEAD',
  'TR',
  'UL'
])

/** The little of a DOM node that the text walk reads (the workers build without the DOM lib). */
interface DomNode {
  nodeType: number
  firstChild: DomNode | null
  nextSibling: DomNode | null
  textContent: string | null
  tagName?: string
}

export interface ExtractOptions {
  /** Readability's minimum article length in characters (its default is 500). */
  charThreshold?: number
}

export function extractMainText(html: string, opts: ExtractOptions = {}): ExtractedText | null {
  const { document } = parseHTML(html.includes('<html') || html.includes('<HTML') ? html : `<!doctype html><html><body>${html}</body></html>`)
  for (const el of [...document.querySelectorAll(DROP)]) el.remove()
  // Readability's types want the DOM lib's Document; linkedom's is structurally what it reads.
  const article = new Readability(document as unknown as ConstructorParameters<typeof Readability>[0], { charThreshold: opts.charThreshold ?? 500 }).parse()
  if (!article?.content) return null
  const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`)
  const text = blockText(content.body as unknown as DomNode)
  if (!text) return null
  return { title: (article.title ?? '').trim(), text }
}

/** Text of a DOM subtree with blocks separated by blank lines and <br> as line breaks. */
export function blockText(root: DomNode): string {
  const parts: string[] = []
  const walk = (node: DomNode): void => {
    for (let child = node.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 3) {
        parts.push((child.textContent ?? '').replace(/\s+/g, ' '))
      } else if (child.nodeType === 1) {
        const tag = (child.tagName ?? '').toUpperCase()
        if (tag === 'BR') parts.push('\n')
        else if (tag === 'PRE') parts.push('\n\n', child.textContent ?? '', '\n\n')
        else if (BLOCK.has(tag)) {
          parts.push('\n\n')
          walk(child)
          parts.push('\n\n')
        } else walk(child)
      }
    }
  }
  walk(root)
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()
}
