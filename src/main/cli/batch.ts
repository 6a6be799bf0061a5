// gptw batch: the decoded text of the batch a run trained on at step N (or its validation batch),
// reproduced from the run's config, dataset and sampler state (src/core/engine/batch-inspector.ts).
import path from 'node:path'
import { parseArgs } from 'node:util'
import { readShard, readShardMeta } from '../../core/data/shards'
import { END_OF_TEXT_MARK, type InspectedBatch, inspectBatch } from '../../core/engine/batch-inspector'
import { UsageError, intFlag } from './args'
import { type CliEnv, withWorkbench } from './env'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { run: { type: 'string' }, step: { type: 'string' }, split: { type: 'string' }, json: { type: 'boolean' } } as const

export async function batch(argv: string[], env: CliEnv): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (!values.run || !values.step) throw new UsageError('batch needs --run ID and --step N.')
  const runId = intFlag(values.run, 'run', 0, 1)
  const step = intFlag(values.step, 'step', 0, 1)
  const split = values.split ?? 'train'
  if (split !== 'train' && split !== 'val') throw new UsageError(`--split is train or val, got "${split}".`)
  const run = await withWorkbench(env, async (workbench) => workbench.runs.get(runId))
  if (!run) throw new UsageError(`There is no run ${runId} in this workspace (gptw jobs lists them).`)
  if (!run.datasetDir) throw new Error(`Run ${runId} has no dataset folder recorded.`)
  if (split === 'train' && step > run.config.steps) throw new UsageError(`Run ${runId} trains ${run.config.steps} steps; --step ${step} is past its end.`)
  const meta = readShardMeta(run.datasetDir)
  const inspected = inspectBatch({
    config: run.config,
    step,
    split,
    train: readShard(run.datasetDir, 'train'),
    val: meta.splits.val ? readShard(run.datasetDir, 'val') : null,
    checkpointsDir: path.join(run.dir, 'checkpoints')
  })
  if (values.json) console.log(JSON.stringify({ runId, ...inspected }))
  else console.log(formatBatch(runId, inspected))
  return 0
}

/** The text form: a header with the counts, then each row's offset and decoded text (end-of-text marked). */
export function formatBatch(runId: number, b: InspectedBatch): string {
  const from = b.replayedFrom.kind === 'seed' ? `seed ${b.replayedFrom.seed}` : `checkpoint step ${b.replayedFrom.step}`
  const head =
    b.split === 'train'
      ? `Run ${runId}, step ${b.step}: the training batch, ${b.batch} rows x ${b.seq} tokens (replayed ${b.draws} draws from ${from})`
      : `Run ${runId}: the validation batch, ${b.batch} rows x ${b.seq} tokens (the shard's first windows, the same at every evaluation)`
  const counts = `${plural(b.endOfTextTokens, 'end-of-text token')}; ${plural(b.documents, 'document')}, ${b.repeatedDocuments} seen by more than one row (${(b.repeatedDocumentShare * 100).toFixed(1)}%); ${(b.repeatedTokenShare * 100).toFixed(1)}% of tokens in overlapping windows; no padding (packed)`
  const rows = b.rows.map((r, i) => `--- row ${i} (shard offset ${r.start}${r.boundaries.length ? `, ${END_OF_TEXT_MARK} at ${r.boundaries.join(', ')}` : ''})\n${r.text}`)
  return [head, counts, ...rows].join('\n')
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
