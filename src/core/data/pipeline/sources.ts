// Stage 1, sources: finds the inputs the config names (URL list files or folders of them, inline
// URLs, folders of saved HTML pages, loose JSON / JSONL files), checks they exist, and writes the
// inventory (sources.json) and every URL read, in order (urls.raw.txt).
import fs from 'node:fs'
import path from 'node:path'
import type { PrepareConfig } from '../../../shared/config/prepare'
import { DurableWriter, writeJsonAtomic } from '../../durable-file'
import { FILES } from './files'
import { readLines } from './jsonl'
import type { StageDef } from './stage'

export interface SourcesInventory {
  urlFiles: { file: string; urls: number }[]
  inlineUrls: number
  htmlFiles: { file: string; bytes: number }[]
  jsonFiles: { file: string; bytes: number }[]
}

const URL_LIST = /\.(txt|urls?|list)$/i
const HTML_PAGE = /\.(html?|xhtml)$/i

function requirePath(p: string, key: string): fs.Stats {
  try {
    return fs.statSync(p)
  } catch {
    throw new Error(`Source ${p} (sources.${key}) does not exist. Check the path, or remove it from the config.`)
  }
}

/** Files under `dir` (recursively) whose names match, sorted so every run sees the same order. */
function listFiles(dir: string, pattern: RegExp): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).isFile())
    .sort()
}

export function urlListFiles(config: PrepareConfig): string[] {
  return config.sources.urlFiles.flatMap((p) => (requirePath(p, 'urlFiles').isDirectory() ? listFiles(p, URL_LIST) : [p]))
}

export function htmlFiles(config: PrepareConfig): string[] {
  return config.sources.htmlDirs.flatMap((p) => {
    if (!requirePath(p, 'htmlDirs').isDirectory()) throw new Error(`sources.htmlDirs names ${p}, which is a file: give the folder that holds the saved pages.`)
    return listFiles(p, HTML_PAGE)
  })
}

export function jsonFiles(config: PrepareConfig): string[] {
  return config.sources.jsonFiles.map((p) => {
    if (!requirePath(p, 'jsonFiles').isFile()) throw new Error(`sources.jsonFiles names ${p}, which is a folder: give the .json / .jsonl file itself.`)
    return p
  })
}

export function readInventory(dir: string): SourcesInventory {
  return JSON.parse(fs.readFileSync(path.join(dir, FILES.sources), 'utf8')) as SourcesInventory
}

const stat = (f: string): [string, number, number] => {
  const s = fs.statSync(f)
  return [f, s.size, Math.floor(s.mtimeMs)]
}

export const sourcesStage: StageDef = {
  name: 'sources',
  // Changing a source file (its size or time) reruns everything after it.
  fingerprint: (config) => ({
    sources: config.sources,
    files: [...urlListFiles(config), ...htmlFiles(config), ...jsonFiles(config)].map(stat)
  }),
  async run({ dir, config, job, tally }) {
    const inventory: SourcesInventory = { urlFiles: [], inlineUrls: 0, htmlFiles: [], jsonFiles: [] }
    const out = new DurableWriter(path.join(dir, FILES.rawUrls))
    const lines: string[] = []
    const flush = (): void => {
      if (lines.length) out.write(lines.join('\n') + '\n')
      lines.length = 0
    }
    const add = (url: string): boolean => {
      const trimmed = url.trim()
      if (!trimmed || trimmed.startsWith('#')) return false
      lines.push(trimmed)
      tally.input++
      tally.keep(() => ({ url: trimmed, text: '' }))
      if (lines.length >= 4096) flush()
      return true
    }
    try {
      for (const url of config.sources.urls) if (add(url)) inventory.inlineUrls++
      const files = urlListFiles(config)
      for (const [i, file] of files.entries()) {
        let urls = 0
        for await (const { line } of readLines(file)) if (add(line)) urls++
        inventory.urlFiles.push({ file, urls })
        tally.bytesIn += fs.statSync(file).size
        tally.progress(i + 1, files.length, 'files')
        await job.pausePoint()
      }
      flush()
      out.commit()
    } catch (err) {
      out.abort()
      throw err
    }
    for (const file of htmlFiles(config)) {
      const bytes = fs.statSync(file).size
      inventory.htmlFiles.push({ file, bytes })
      tally.input++
      tally.keep(() => ({ url: file, text: '' }))
    }
    for (const file of jsonFiles(config)) {
      const bytes = fs.statSync(file).size
      inventory.jsonFiles.push({ file, bytes })
      tally.input++
      tally.keep(() => ({ url: file, text: '' }))
    }
    tally.note(
      'urls',
      inventory.urlFiles.reduce((n, f) => n + f.urls, inventory.inlineUrls)
    )
    tally.note('html-files', inventory.htmlFiles.length)
    tally.note('json-files', inventory.jsonFiles.length)
    writeJsonAtomic(path.join(dir, FILES.sources), inventory)
    return [FILES.sources, FILES.rawUrls]
  }
}
