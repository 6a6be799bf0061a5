// Downloads into the eval-data cache: written to <file>.part and committed (fsync, rename, directory
// fsync) when complete, resumed with an HTTP Range request after an interruption, checked against
// an expected SHA-256 when one is known. Errors name the URL and the file and say what to do.
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { privateAddressCause } from '../../data/pipeline/address-guard'
import { commitFile } from '../../durable-file'

export class DownloadError extends Error {}

export interface DownloadOptions {
  sha256?: string
  fetchImpl?: typeof fetch
  /** Called with bytes so far and the total when the server says it. */
  onProgress?: (bytes: number, total: number | undefined) => void
}

export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256')
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export async function downloadFile(url: string, dest: string, options: DownloadOptions = {}): Promise<void> {
  const fetchImpl = options.fetchImpl ?? fetch
  fs.mkdirSync(path.dirname(dest), { recursive: true })
  const part = `${dest}.part`
  const have = fs.existsSync(part) ? fs.statSync(part).size : 0
  let response: Response
  try {
    response = await fetchImpl(url, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} })
  } catch (e) {
    const refused = privateAddressCause(e)
    if (refused) throw new DownloadError(`Refused ${url}: ${refused.message}. To use a local copy, set it as a mirror or the Hugging Face base URL in the eval data settings.`)
    throw new DownloadError(`Could not reach ${url} (${(e as Error).message}). Check the network or set a mirror for this host in the eval data settings.`)
  }
  if (response.status === 416 && have > 0) {
    // the partial file is already whole (or the server disagrees): start over once
    fs.rmSync(part)
    return downloadFile(url, dest, options)
  }
  if (!response.ok || !response.body) {
    throw new DownloadError(`Downloading ${url} failed: HTTP ${response.status} ${response.statusText}. Check the URL or the mirror setting.`)
  }
  const resumed = response.status === 206 && have > 0
  const length = Number(response.headers.get('content-length') ?? NaN)
  const total = Number.isFinite(length) ? length + (resumed ? have : 0) : undefined
  const out = fs.createWriteStream(part, { flags: resumed ? 'a' : 'w' })
  let bytes = resumed ? have : 0
  try {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
      options.onProgress?.(bytes, total)
    }
  } catch (e) {
    await new Promise<void>((r) => out.end(() => r()))
    throw new DownloadError(`Download of ${url} was interrupted after ${bytes} bytes (${(e as Error).message}); run again to resume from ${part}.`)
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
  if (total !== undefined && bytes !== total) {
    throw new DownloadError(`Download of ${url} stopped at ${bytes} of ${total} bytes; run again to resume from ${part}.`)
  }
  if (options.sha256) {
    const got = await sha256File(part)
    if (got !== options.sha256) {
      fs.rmSync(part)
      throw new DownloadError(
        `${url} has SHA-256 ${got}, expected ${options.sha256}: the file differs from the one the harness used. The corrupt download was deleted; retry, or if a mirror serves a different copy on purpose, turn off checksum verification.`
      )
    }
  }
  commitFile(part, dest)
}
