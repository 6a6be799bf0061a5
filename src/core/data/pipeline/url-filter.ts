// Stage 2, URL filter: normalises the URLs read from the sources and drops duplicates, malformed
// and short URLs and blacklisted domains and extensions (Megatron's blacklist_urls). Writes the
// URLs kept (urls.txt); the runner logs each dropped one with its reason.
import fs from 'node:fs'
import path from 'node:path'
import { DurableWriter } from '../../durable-file'
import { FILES } from './files'
import { readLines } from './jsonl'
import type { StageDef } from './stage'
import { UrlFilter } from './url-rules'

export const urlFilterStage: StageDef = {
  name: 'urlFilter',
  fingerprint: (config) => config.urlFilter,
  async run({ dir, config, job, tally }) {
    const filter = new UrlFilter(config.urlFilter)
    const input = path.join(dir, FILES.rawUrls)
    const size = fs.statSync(input).size
    const kept = new DurableWriter(path.join(dir, FILES.urls))
    const batch: string[] = []
    try {
      for await (const { line, bytesRead } of readLines(input)) {
        if (!line) continue
        tally.input++
        const verdict = filter.check(line)
        if ('url' in verdict) {
          batch.push(verdict.url)
          tally.keep(() => ({ url: verdict.url, text: '' }))
        } else {
          tally.drop(verdict.reason, line, { sample: () => ({ url: line, text: '' }) })
        }
        if (batch.length >= 4096) kept.write(batch.splice(0).join('\n') + '\n')
        if (tally.input % 2048 === 0) {
          tally.bytesIn = bytesRead
          tally.progress(bytesRead, size, 'bytes')
          await job.pausePoint()
        }
      }
      if (batch.length) kept.write(batch.join('\n') + '\n')
      kept.commit()
    } catch (err) {
      kept.abort()
      throw err
    }
    tally.bytesIn = size
    return [FILES.urls]
  }
}

/** The URLs the filter kept, in order. */
export async function readKeptUrls(dir: string): Promise<string[]> {
  const urls: string[] = []
  for await (const { line } of readLines(path.join(dir, FILES.urls))) if (line) urls.push(line)
  return urls
}
