// A checkpoint's identity for the request cache and the results matrix: the SHA-256 of its
// model.safetensors and config.json bytes, so a copied or moved folder keeps its cached answers
// and a retrained one at the same path does not inherit them.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const FILES = ['model.safetensors', 'config.json'] as const

export async function checkpointFingerprint(dir: string): Promise<string> {
  const hash = createHash('sha256')
  for (const name of FILES) {
    const file = path.join(dir, name)
    if (!fs.existsSync(file)) throw new Error(`${dir} is not a checkpoint folder: it has no ${name}.`)
    // Length-prefix each file so two different splits of the same bytes cannot collide.
    hash.update(`${name}:${fs.statSync(file).size}:`)
    for await (const chunk of fs.createReadStream(file, { highWaterMark: 1 << 22 })) hash.update(chunk as Buffer)
  }
  return hash.digest('hex')
}
