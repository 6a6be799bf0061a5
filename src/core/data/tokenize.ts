// Tokenizes a corpus into token shards, streaming. Inputs: loose JSON / JSONL ({"text"} per line,
// the seed's DATA format; each document followed by end-of-text) or plain text (one document).
// Run by the tokenize worker and by `gptw tokenize`.
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import type { JobContext } from '../job-context'
import { mulberry32 } from '../rng'
import { END_OF_TEXT, GPT2_VOCAB_SIZE, encodeText } from './gpt2-tokenizer'
import { ShardWriter, writeShardMeta } from './shards'

export interface TokenizeOptions {
  input: string
  outDir: string
  /** Share of documents (JSON input) or of the text's tail (plain text) that goes to val.bin. */
  valFraction: number
  seed?: number
}

export interface TokenizeResult {
  outDir: string
  format: 'jsonl' | 'text'
  bytes: number
  seconds: number
  splits: Record<string, { tokens: number; documents: number }>
  skippedLines: number
}

const TEXT_CHUNK_CHARS = 256 * 1024

export async function tokenizeCorpus(opts: TokenizeOptions, ctx: JobContext): Promise<TokenizeResult> {
  const stat = statInput(opts.input)
  fs.mkdirSync(opts.outDir, { recursive: true })
  const format = detectFormat(opts.input)
  const splits = { train: new ShardWriter(path.join(opts.outDir, 'train.bin')) } as Record<string, ShardWriter>
  if (opts.valFraction > 0) splits.val = new ShardWriter(path.join(opts.outDir, 'val.bin'))
  const started = Date.now()
  let skippedLines = 0
  try {
    ctx.log(`Tokenizing ${opts.input} (${format}, ${formatMB(stat.size)}) into ${opts.outDir}`)
    if (format === 'jsonl') skippedLines = await tokenizeJsonLines(opts, stat.size, splits, ctx)
    else await tokenizePlainText(opts, stat.size, splits, ctx)
    for (const writer of Object.values(splits)) writer.finish()
  } catch (err) {
    for (const writer of Object.values(splits)) writer.abort()
    throw err
  }
  const seconds = (Date.now() - started) / 1000
  const result: TokenizeResult = {
    outDir: opts.outDir,
    format,
    bytes: stat.size,
    seconds,
    skippedLines,
    splits: Object.fromEntries(Object.entries(splits).map(([name, w]) => [name, { tokens: w.tokens, documents: w.documents }]))
  }
  writeShardMeta(opts.outDir, {
    format: 'gptw-tokens-v1',
    tokenizer: 'gpt2',
    vocabSize: GPT2_VOCAB_SIZE,
    dtype: 'uint16',
    source: path.resolve(opts.input),
    splits: Object.fromEntries(Object.entries(splits).map(([name, w]) => [name, { file: path.basename(w.file), tokens: w.tokens, documents: w.documents }])),
    createdAt: new Date().toISOString()
  })
  const total = Object.values(result.splits).reduce((n, s) => n + s.tokens, 0)
  ctx.log(`Done: ${total} tokens in ${seconds.toFixed(1)} s (${formatMB(stat.size / Math.max(seconds, 1e-3))}/s)`)
  return result
}

function statInput(file: string): fs.Stats {
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    throw new Error(`Input file ${file} does not exist. Give the path of a .txt, .json or .jsonl file.`)
  }
  if (!stat.isFile()) throw new Error(`Input ${file} is not a file. Give the path of a .txt, .json or .jsonl file.`)
  return stat
}

function detectFormat(file: string): 'jsonl' | 'text' {
  return /\.(jsonl?|ndjson)$/i.test(file) ? 'jsonl' : 'text'
}

async function tokenizeJsonLines(opts: TokenizeOptions, size: number, splits: Record<string, ShardWriter>, ctx: JobContext): Promise<number> {
  const stream = fs.createReadStream(opts.input)
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity })
  const random = mulberry32(opts.seed ?? 1234)
  let lineNo = 0
  let skipped = 0
  for await (const line of lines) {
    lineNo++
    if (!line.trim()) continue
    const text = parseDocumentLine(line)
    if (text === null) {
      if (skipped++ < 5) ctx.log(`Line ${lineNo} of ${opts.input} is not a JSON object with a "text" string; skipped.`, 'warn')
      continue
    }
    const writer = splits.val && random() < opts.valFraction ? splits.val : splits.train
    writer.push(encodeText(text))
    writer.push([END_OF_TEXT])
    writer.documents++
    if (lineNo % 64 === 0) {
      ctx.progress(stream.bytesRead, size, progressText(stream.bytesRead, size, splits))
      await ctx.pausePoint()
    }
  }
  if (skipped > 5) ctx.log(`${skipped} lines in all were skipped.`, 'warn')
  ctx.progress(size, size, progressText(size, size, splits))
  return skipped
}

function parseDocumentLine(line: string): string | null {
  try {
    const doc: unknown = JSON.parse(line)
    if (doc && typeof doc === 'object' && typeof (doc as { text?: unknown }).text === 'string') return (doc as { text: string }).text
  } catch {
    /* reported by the caller */
  }
  return null
}

async function tokenizePlainText(opts: TokenizeOptions, size: number, splits: Record<string, ShardWriter>, ctx: JobContext): Promise<void> {
  const stream = fs.createReadStream(opts.input, { encoding: 'utf8', highWaterMark: TEXT_CHUNK_CHARS })
  const valStartsAt = splits.val ? size * (1 - opts.valFraction) : Infinity
  let written = 0 // bytes of text handed to the writers so far
  // Text before byte valStartsAt goes to train, the rest to val, cut at a safe point near it.
  const write = (piece: string): void => {
    const bytes = Buffer.byteLength(piece)
    if (written < valStartsAt && written + bytes > valStartsAt) {
      const guess = Math.floor((piece.length * (valStartsAt - written)) / bytes)
      const cut = safeCut(piece.slice(0, Math.max(guess, 1) + 1))
      if (cut > 0) {
        splits.train.push(encodeText(piece.slice(0, cut)))
        splits.val.push(encodeText(piece.slice(cut)))
      } else splits.train.push(encodeText(piece))
    } else (written >= valStartsAt ? splits.val : splits.train).push(encodeText(piece))
    written += bytes
  }
  let pending = ''
  for await (const chunk of stream as AsyncIterable<string>) {
    pending += chunk
    const cut = safeCut(pending)
    if (cut <= 0) continue
    write(pending.slice(0, cut))
    pending = pending.slice(cut)
    ctx.progress(stream.bytesRead, size, progressText(stream.bytesRead, size, splits))
    await ctx.pausePoint()
  }
  if (pending) write(pending)
  for (const writer of Object.values(splits)) {
    if (writer.tokens === 0) continue
    writer.push([END_OF_TEXT])
    writer.documents = 1
  }
  ctx.progress(size, size, progressText(size, size, splits))
}

/**
 * The last index where the text can be split without changing GPT-2's tokenization: before a
 * space that follows a non-space and precedes a letter (always a pre-token boundary).
 * Returns -1 when the text has no such point.
 */
export function safeCut(text: string): number {
  for (let i = text.length - 2; i > 0; i--) {
    if (text[i] === ' ' && !/\s/.test(text[i - 1]) && /\p{L}/u.test(text[i + 1])) return i
  }
  return -1
}

function progressText(done: number, total: number, splits: Record<string, ShardWriter>): string {
  const tokens = Object.values(splits).reduce((n, w) => n + w.tokens, 0)
  return `${formatMB(done)} of ${formatMB(total)}, ${tokens.toLocaleString('en-US')} tokens`
}

function formatMB(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`
}
