// Stage 7, output: the kept documents, shuffled with a fixed seed, as train_data.json (loose JSON,
// {"text","url"} per line: the seed's DATA format), then GPT-2 token shards beside it
// (tokens/train.bin, val.bin, meta.json) through the tokenize step. Documents are put in URL
// order before the shuffle, so the result does not depend on the order pages were downloaded in.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { mulberry32 } from '../../rng'
import { type TokenizeResult, tokenizeCorpus } from '../tokenize'
import { type DocRecord, FILES } from './files'
import { AtomicJsonlWriter, readJsonAt, readJsonl } from './jsonl'
import type { StageDef } from './stage'

export const outputStage: StageDef = {
  name: 'output',
  fingerprint: (config) => ({ output: config.output, version: 1 }),
  async run({ dir, config, job, tally }) {
    const file = path.join(dir, FILES.dedup)
    const size = fs.statSync(file).size
    const docs: { offset: number; length: number; url: string; hash: string }[] = []
    for await (const { value, offset, length } of readJsonl<DocRecord>(file)) {
      docs.push({ offset, length, url: value.url, hash: createHash('sha1').update(value.text).digest('hex') })
      tally.input++
      tally.bytesIn += length
    }
    docs.sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0))
    const random = mulberry32(config.output.shuffleSeed)
    for (let i = docs.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[docs[i], docs[j]] = [docs[j], docs[i]]
    }
    const fd = fs.openSync(file, 'r')
    const out = new AtomicJsonlWriter(path.join(dir, FILES.trainData))
    // Writing is the first half of this stage's progress, tokenizing the second.
    const half = config.output.tokenize ? 2 : 1
    try {
      for (const [i, d] of docs.entries()) {
        const doc = readJsonAt<DocRecord>(fd, d.offset, d.length)
        out.write({ text: doc.text, url: doc.url })
        tally.keep(() => ({ url: doc.url, title: doc.title, text: doc.text }))
        if (i % 256 === 0) {
          tally.progress(i, docs.length * half, 'documents', (size * i) / Math.max(docs.length, 1))
          await job.pausePoint()
        }
      }
      out.finish()
    } catch (err) {
      out.abort()
      throw err
    } finally {
      fs.closeSync(fd)
    }
    tally.bytesOut = out.bytes
    tally.note('documents', docs.length)
    if (!config.output.tokenize) return [FILES.trainData]
    if (!docs.length) throw new Error('No documents are left after cleaning and deduplication, so there is nothing to tokenize. Loosen the filters (clean.minTokens, clean.languages) or add sources.')

    const tokensDir = path.join(dir, FILES.tokens)
    const result: TokenizeResult = await tokenizeCorpus(
      { input: path.join(dir, FILES.trainData), outDir: tokensDir, valFraction: config.output.valFraction },
      {
        ...job,
        progress: (done, total) => tally.progress(docs.length + (docs.length * done) / Math.max(total, 1), docs.length * 2, 'documents', size + done)
      }
    )
    for (const [split, info] of Object.entries(result.splits)) tally.note(`tokens-${split}`, info.tokens)
    return [FILES.trainData, FILES.tokens]
  }
}
