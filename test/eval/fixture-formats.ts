// Writers for the real file formats the task data comes in, used to serve fixtures: Hugging Face
// parquet (as the Hub's parquet API serves it, nested lists and structs included), zip, tar and
// tar.gz archives.
import zlib from 'node:zlib'
import { zipSync } from 'fflate'
import { parquetWriteBuffer } from 'hyparquet-writer'
import tarStream from 'tar-stream'

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
interface SchemaElement {
  name: string
  type?: string
  converted_type?: string
  repetition_type?: string
  num_children?: number
}

function schemaFor(name: string, sample: Json, repetition = 'OPTIONAL'): SchemaElement[] {
  if (Array.isArray(sample)) {
    return [
      { name, repetition_type: repetition, converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      ...schemaFor('element', sample[0] ?? '', 'OPTIONAL')
    ]
  }
  if (sample !== null && typeof sample === 'object') {
    const keys = Object.keys(sample)
    return [{ name, repetition_type: repetition, num_children: keys.length }, ...keys.flatMap((k) => schemaFor(k, sample[k]))]
  }
  if (typeof sample === 'boolean') return [{ name, type: 'BOOLEAN', repetition_type: repetition }]
  if (typeof sample === 'number') return Number.isInteger(sample) ? [{ name, type: 'INT64', repetition_type: repetition }] : [{ name, type: 'DOUBLE', repetition_type: repetition }]
  return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: repetition }]
}

/** Integers become BigInt for INT64 columns, recursively. */
function forParquet(v: Json): unknown {
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v)
  if (Array.isArray(v)) return v.map(forParquet)
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, forParquet(x)]))
  return v
}

export function parquetFile(rows: Record<string, Json>[]): Buffer {
  const columns = Object.keys(rows[0])
  const sampleOf = (c: string): Json => rows.map((r) => r[c]).find((x) => x !== null && !(Array.isArray(x) && x.length === 0)) ?? ''
  const schema = [{ name: 'root', num_children: columns.length }, ...columns.flatMap((c) => schemaFor(c, sampleOf(c)))]
  const ab = parquetWriteBuffer({ columnData: columns.map((c) => ({ name: c, data: rows.map((r) => forParquet(r[c] ?? null)) })), schema } as Parameters<typeof parquetWriteBuffer>[0])
  return Buffer.from(ab)
}

export function zipFile(entries: Record<string, string>): Buffer {
  return Buffer.from(zipSync(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v, 'utf8')]))))
}

export async function tarFile(entries: Record<string, string>, gzip = false): Promise<Buffer> {
  const pack = tarStream.pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    const out = gzip ? pack.pipe(zlib.createGzip()) : pack
    out.on('data', (c: Buffer) => chunks.push(c))
    out.on('end', () => resolve())
    out.on('error', reject)
  })
  for (const [name, text] of Object.entries(entries)) pack.entry({ name }, Buffer.from(text, 'utf8'))
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}
