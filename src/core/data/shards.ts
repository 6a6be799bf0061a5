// Token shards: one file of little-endian uint16 GPT-2 ids per split (train.bin, val.bin) and a
// meta.json sidecar. Files are written under a temporary name and renamed when complete. Opening a
// folder checks each split's size and that no id reaches meta.json's vocabSize (a max scan, cached
// per file version), so a bad shard is named when the dataset is opened, not at the first step.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { DurableWriter, writeJsonAtomic } from '../durable-file'

export const ShardMeta = z.object({
  format: z.literal('gptw-tokens-v1'),
  tokenizer: z.literal('gpt2'),
  vocabSize: z.number().int().positive(),
  dtype: z.literal('uint16'),
  source: z.string(),
  splits: z.record(z.string(), z.object({ file: z.string(), tokens: z.number().int().nonnegative(), documents: z.number().int().nonnegative() })),
  createdAt: z.string()
})
export type ShardMeta = z.infer<typeof ShardMeta>

export const SHARD_META_FILE = 'meta.json'

/** Buffers ids and streams them to a temp file; `finish()` makes it durable under its name. */
export class ShardWriter {
  private readonly out: DurableWriter
  private readonly buffer: Uint16Array
  private filled = 0
  tokens = 0
  documents = 0

  constructor(
    readonly file: string,
    bufferTokens = 1 << 20
  ) {
    this.out = new DurableWriter(file)
    this.buffer = new Uint16Array(bufferTokens)
  }

  push(ids: ArrayLike<number>): void {
    for (let i = 0; i < ids.length; i++) {
      if (this.filled === this.buffer.length) this.flush()
      this.buffer[this.filled++] = ids[i]
    }
    this.tokens += ids.length
  }

  finish(): void {
    this.flush()
    this.out.commit()
  }

  abort(): void {
    this.out.abort()
  }

  private flush(): void {
    if (this.filled === 0) return
    this.out.write(new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, this.filled * 2))
    this.filled = 0
  }
}

export function writeShardMeta(dir: string, meta: ShardMeta): void {
  writeJsonAtomic(path.join(dir, SHARD_META_FILE), meta)
}

/** Reads and checks a shard folder's sidecar and that each split file has the size it claims. */
export function readShardMeta(dir: string): ShardMeta {
  const file = path.join(dir, SHARD_META_FILE)
  let raw: unknown
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch (err) {
    throw new Error(`Cannot read the token shard description ${file}: ${(err as Error).message}. Re-run the tokenize step for this dataset.`, { cause: err })
  }
  const parsed = ShardMeta.safeParse(raw)
  if (!parsed.success) throw new Error(`${file} is not a token shard description (${parsed.error.issues[0]?.message}). Re-run the tokenize step.`)
  for (const [split, info] of Object.entries(parsed.data.splits)) {
    const bin = path.join(dir, info.file)
    const size = fs.existsSync(bin) ? fs.statSync(bin).size : -1
    if (size !== info.tokens * 2) {
      throw new Error(
        `Token shard ${bin} (${split}) should hold ${info.tokens} tokens (${info.tokens * 2} bytes) but ` +
          (size < 0 ? 'is missing' : `has ${size} bytes`) +
          '. The file is corrupt or incomplete: re-run the tokenize step.'
      )
    }
    const { max, at } = maxId(bin)
    if (max >= parsed.data.vocabSize) {
      throw new Error(
        `Token shard ${bin} (${split}) holds id ${max} at token ${at}, past the vocabulary of ${parsed.data.vocabSize} in ${file}: ` +
          'the shard was written with another tokenizer or is corrupt. Re-run the tokenize step for this dataset.'
      )
    }
  }
  return parsed.data
}

const maxIds = new Map<string, { max: number; at: number }>()

/** The largest id in a shard file and its first position, scanned in 16 MiB reads; cached per path, size and mtime. */
function maxId(bin: string): { max: number; at: number } {
  const stat = fs.statSync(bin)
  const key = `${bin}\u0000${stat.size}\u0000${stat.mtimeMs}`
  const known = maxIds.get(key)
  if (known) return known
  const fd = fs.openSync(bin, 'r')
  const buffer = Buffer.alloc(16 << 20)
  let max = -1
  let at = 0
  try {
    for (let offset = 0; ;) {
      const n = fs.readSync(fd, buffer, 0, buffer.length, offset)
      if (n <= 0) break
      const ids = new Uint16Array(buffer.buffer, buffer.byteOffset, n >> 1)
      for (let i = 0; i < ids.length; i++) {
        if (ids[i] > max) {
          max = ids[i]
          at = offset / 2 + i
        }
      }
      offset += n
    }
  } finally {
    fs.closeSync(fd)
  }
  const found = { max, at }
  maxIds.set(key, found)
  return found
}

/** Loads a split's ids into memory (shards for CPU-sized runs fit easily). */
export function readShard(dir: string, split: string): Uint16Array {
  const meta = readShardMeta(dir)
  const info = meta.splits[split]
  if (!info) throw new Error(`Token shard folder ${dir} has no "${split}" split (it has: ${Object.keys(meta.splits).join(', ')}).`)
  const bytes = fs.readFileSync(path.join(dir, info.file))
  return new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.length / 2)
}
