import fs from 'node:fs'
import path from 'node:path'
import { encode } from 'gpt-tokenizer/encoding/r50k_base'
import { describe, expect, it } from 'vitest'
import { inlineContext } from '../src/core/job-context'
import { END_OF_TEXT, decodeTokens, encodeText } from '../src/core/data/gpt2-tokenizer'
import { readShard, readShardMeta } from '../src/core/data/shards'
import { safeCut, tokenizeCorpus } from '../src/core/data/tokenize'
import { MOBY_DICK, sotuSpeeches, tempDir } from './helpers'

describe('GPT-2 tokenization into shards', () => {
  it('encodes special-token text found in documents as plain text', () => {
    const ids = encodeText('a <|endoftext|> b')
    expect(ids).not.toContain(END_OF_TEXT)
    expect(decodeTokens(ids)).toBe('a <|endoftext|> b')
  })

  it('decodes each call on its own: a split character does not leak into the next call', () => {
    const ids = encodeText('🙂 hi')
    expect(decodeTokens(ids.slice(0, 1))).toBe('\uFFFD')
    expect(decodeTokens(encodeText('plain'))).toBe('plain')
    expect(decodeTokens(ids)).toBe('🙂 hi')
  })

  it('streams plain text in pieces with exactly the tokens of encoding it whole', async () => {
    const dir = tempDir()
    const text = fs.readFileSync(MOBY_DICK, 'utf8')
    await tokenizeCorpus({ input: MOBY_DICK, outDir: dir, valFraction: 0 }, inlineContext())
    const ids = readShard(dir, 'train')
    expect(Array.from(ids)).toEqual([...encode(text), END_OF_TEXT])
  })

  it('cuts text only before a space that starts a word', () => {
    expect(safeCut('Call me Ishmael')).toBe(7)
    expect(safeCut('no-space')).toBe(-1)
    expect(safeCut('12 34 !! ?')).toBe(-1)
    expect(safeCut('two  spaces')).toBe(-1)
  })

  it('splits loose JSON documents between train and val, each followed by end-of-text', async () => {
    const dir = tempDir()
    const docs = sotuSpeeches().slice(0, 60)
    const input = path.join(dir, 'train_data.json')
    fs.writeFileSync(input, docs.map((text, i) => JSON.stringify({ text, url: `https://example.org/${i}` })).join('\n') + '\n')
    const result = await tokenizeCorpus({ input, outDir: path.join(dir, 'tokens'), valFraction: 0.2 }, inlineContext())
    const meta = readShardMeta(path.join(dir, 'tokens'))
    expect(meta.splits.train.documents + meta.splits.val.documents).toBe(60)
    expect(meta.splits.val.documents).toBeGreaterThan(3)
    expect(meta.splits.val.documents).toBeLessThan(25)
    const all = [...readShard(path.join(dir, 'tokens'), 'train'), ...readShard(path.join(dir, 'tokens'), 'val')]
    expect(all.filter((id) => id === END_OF_TEXT).length).toBe(60)
    const expectedTokens = docs.reduce((n, d) => n + encode(d).length + 1, 0)
    expect(all.length).toBe(expectedTokens)
    expect(result.skippedLines).toBe(0)
  })

  it('skips and reports lines that are not documents, keeping the rest', async () => {
    const dir = tempDir()
    const input = path.join(dir, 'mixed.jsonl')
    fs.writeFileSync(input, ['{"text": "First document."}', '{broken', '{"url": "no text"}', '{"text": "Second document."}'].join('\n'))
    const logs: string[] = []
    const result = await tokenizeCorpus(
      { input, outDir: dir, valFraction: 0 },
      inlineContext(undefined, (t) => logs.push(t))
    )
    expect(result.skippedLines).toBe(2)
    expect(result.splits.train.documents).toBe(2)
    expect(logs.some((l) => /Line 2 of .*mixed\.jsonl/.test(l))).toBe(true)
    expect(decodeTokens(readShard(dir, 'train'))).toBe('First document.<|endoftext|>Second document.<|endoftext|>')
  })

  it('names a missing input file and says what to give', async () => {
    await expect(tokenizeCorpus({ input: '/nope/corpus.txt', outDir: tempDir(), valFraction: 0 }, inlineContext())).rejects.toThrow(/\/nope\/corpus\.txt does not exist/)
  })

  it('detects a truncated shard and says how to fix it', async () => {
    const dir = tempDir()
    const input = path.join(dir, 'a.txt')
    fs.writeFileSync(input, 'Some text to tokenize for a shard.')
    await tokenizeCorpus({ input, outDir: dir, valFraction: 0 }, inlineContext())
    fs.truncateSync(path.join(dir, 'train.bin'), 3)
    expect(() => readShard(dir, 'train')).toThrow(/has 3 bytes.*re-run the tokenize step/)
  })
})
