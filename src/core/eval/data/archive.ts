// Reading the official archives the harness extracts: zip (fflate, pure JS) and tar / tar.gz
// (tar-stream over node:zlib). Only the wanted entries are kept in memory.
import fs from 'node:fs'
import { Readable } from 'node:stream'
import zlib from 'node:zlib'
import { unzipSync } from 'fflate'
import tarStream from 'tar-stream'

export function readZipEntries(file: string, wanted: (name: string) => boolean): Map<string, Buffer> {
  let entries: Record<string, Uint8Array>
  try {
    entries = unzipSync(fs.readFileSync(file), { filter: (f) => wanted(f.name) })
  } catch (e) {
    throw new Error(`${file} is not a readable zip archive (${(e as Error).message}); delete it to download it again.`, { cause: e })
  }
  return new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)]))
}

export async function readTarEntries(file: string, wanted: (name: string) => boolean): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const extract = tarStream.extract()
  const source: Readable = fs.createReadStream(file)
  const gz = Buffer.alloc(2)
  const fd = fs.openSync(file, 'r')
  fs.readSync(fd, gz, 0, 2, 0)
  fs.closeSync(fd)
  const input = gz[0] === 0x1f && gz[1] === 0x8b ? source.pipe(zlib.createGunzip()) : source
  input.on('error', (e) => extract.destroy(e))
  input.pipe(extract)
  try {
    for await (const entry of extract) {
      const name = entry.header.name
      if (entry.header.type === 'file' && wanted(name)) {
        const chunks: Buffer[] = []
        for await (const chunk of entry) chunks.push(chunk as Buffer)
        out.set(name, Buffer.concat(chunks))
      } else {
        entry.resume()
      }
    }
  } catch (e) {
    throw new Error(`${file} is not a readable tar archive (${(e as Error).message}); delete it to download it again.`, { cause: e })
  }
  return out
}
