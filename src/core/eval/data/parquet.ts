// Hugging Face serves every dataset as parquet (the Hub's parquet API): read with hyparquet, a
// pure-JS reader with snappy built in. INT64 columns come back as BigInt: made plain numbers.
import fs from 'node:fs'
import { parquetReadObjects } from 'hyparquet'

export type Row = Record<string, unknown>

function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return Number(value)
  if (Array.isArray(value)) return value.map(plain)
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
  }
  return value
}

export async function readParquetRows(file: string): Promise<Row[]> {
  const buf = fs.readFileSync(file)
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer
  try {
    const rows = await parquetReadObjects({ file: ab })
    return rows.map((r) => plain(r) as Row)
  } catch (e) {
    throw new Error(`${file} is not a readable parquet file (${(e as Error).message}); delete it to download it again.`, { cause: e })
  }
}
