// Stage 5, clean (Megatron's cleanup_dataset): repair the text (ftfy-style), then drop documents
// that are empty, under the character minimum, under the GPT-2 token minimum (128 by default) or
// not in the wanted languages (English by default). Reads extracted.jsonl and the loose JSON
// sources; writes clean.jsonl.
import fs from 'node:fs'
import path from 'node:path'
import { type DocRecord, FILES } from './files'
import { AtomicJsonlWriter, type JsonlLine, readJsonl } from './jsonl'
import { detectLanguage } from './language'
import type { StageDef, StageEnv } from './stage'
import { readInventory } from './sources'
import { countTokensUpTo } from './token-count'
import { type RepairStats, emptyRepairStats, repairText } from './unicode-repair'

export const cleanStage: StageDef = {
  name: 'clean',
  fingerprint: (config) => ({ clean: config.clean, version: 1 }),
  async run(env) {
    const { dir, job, tally } = env
    const extracted = path.join(dir, FILES.extracted)
    const inputs: { file: string; json: boolean }[] = []
    if (fs.existsSync(extracted)) inputs.push({ file: extracted, json: false })
    for (const { file } of readInventory(dir).jsonFiles) inputs.push({ file, json: true })
    const total = inputs.reduce((n, i) => n + fs.statSync(i.file).size, 0)
    const out = new AtomicJsonlWriter(path.join(dir, FILES.clean))
    const stats = emptyRepairStats()
    let base = 0
    try {
      for (const { file, json } of inputs) {
        const onBad = (n: number, line: string): void => {
          tally.input++
          tally.drop('not-a-document', `${file}#${n}`, { detail: 'not JSON', sample: () => ({ url: `${file}#${n}`, text: line.slice(0, 300) }) })
        }
        for await (const { value, bytesRead, length, lineNo } of json && startsWithArray(file) ? readJsonArray(file) : readJsonl<Partial<DocRecord>>(file, onBad)) {
          tally.input++
          tally.bytesIn += length
          if (typeof value?.text !== 'string') {
            tally.drop('not-a-document', `${file}#${lineNo}`, { detail: 'no "text" string', sample: () => ({ url: `${file}#${lineNo}`, text: JSON.stringify(value).slice(0, 300) }) })
            continue
          }
          const url = typeof value.url === 'string' && value.url ? value.url : json ? `${path.basename(file)}#${lineNo}` : ''
          await cleanOne(env, out, { url, title: value.title, text: value.text }, stats)
          if (tally.input % 16 === 0) {
            tally.progress(base + bytesRead, total, 'bytes')
            await job.pausePoint()
          }
        }
        base += fs.statSync(file).size
      }
      out.finish()
    } catch (err) {
      out.abort()
      throw err
    }
    for (const [name, n] of Object.entries(stats)) if (n) tally.note(`fixed-${name}`, n)
    tally.bytesOut = out.bytes
    return [FILES.clean]
  }
}

const ARRAY_FILE_LIMIT = 512 * 1024 * 1024

/** A .json source may also be one JSON array of {"text", "url"} objects rather than one per line. */
function startsWithArray(file: string): boolean {
  const fd = fs.openSync(file, 'r')
  try {
    const head = Buffer.alloc(256)
    const n = fs.readSync(fd, head, 0, head.length, 0)
    return head.subarray(0, n).toString('utf8').trimStart().startsWith('[')
  } finally {
    fs.closeSync(fd)
  }
}

async function* readJsonArray(file: string): AsyncGenerator<JsonlLine<Partial<DocRecord>>> {
  const size = fs.statSync(file).size
  if (size > ARRAY_FILE_LIMIT) throw new Error(`${file} is one JSON array of ${(size / 1e6).toFixed(0)} MB; write it as JSON lines (one {"text", "url"} object per line) to stream it.`)
  let items: unknown
  try {
    items = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`${file} starts like a JSON array but does not parse (${(err as Error).message}). Fix it, or write one JSON object per line.`, { cause: err })
  }
  if (!Array.isArray(items)) throw new Error(`${file} is not a JSON array of documents.`)
  for (const [i, value] of items.entries()) {
    yield { value: value as Partial<DocRecord>, offset: 0, length: Buffer.byteLength(JSON.stringify(value)), bytesRead: Math.round((size * (i + 1)) / items.length), lineNo: i + 1 }
  }
}

async function cleanOne({ config, tally }: StageEnv, out: AtomicJsonlWriter, doc: DocRecord, stats: RepairStats): Promise<void> {
  const cfg = config.clean
  const before = doc.text
  const mojibakeBefore = stats.mojibake
  const text = cfg.fixUnicode ? repairText(before, stats) : before
  const sample = { url: doc.url, title: doc.title, text }
  if (!text) return tally.drop('empty', doc.url, { sample: () => ({ ...sample, text: before }) })
  if (text.length < cfg.minChars) return tally.drop('too-few-chars', doc.url, { detail: `${text.length} characters`, sample: () => sample })
  if (cfg.minTokens > 0) {
    const tokens = countTokensUpTo(text, cfg.minTokens)
    if (tokens < cfg.minTokens) return tally.drop('too-short', doc.url, { detail: `${tokens} tokens`, sample: () => sample })
  }
  if (cfg.languages.length) {
    const language = await detectLanguage(text)
    if (!cfg.languages.includes(language)) {
      tally.note(`language-${language || 'unknown'}`)
      return tally.drop('wrong-language', doc.url, { detail: language || 'unknown', sample: () => ({ ...sample, title: `${doc.title ?? ''} [${language || 'unknown'}]`.trim() }) })
    }
  }
  out.write({ url: doc.url, ...(doc.title ? { title: doc.title } : {}), text } satisfies DocRecord)
  const changed = text !== before
  if (stats.mojibake > mojibakeBefore) tally.note('documents-with-mojibake')
  tally.keep(() => (changed ? { ...sample, before } : sample), stats.mojibake > mojibakeBefore)
}
