// The batch inspector for the API (`runs.batch`): a run's training batch at step N, or its
// validation batch, reproduced from its config, dataset and sampler state by the core inspector
// (no tfjs: the sampler, the shards and the tokenizer only), with each token's text for hovering.
import path from 'node:path'
import { ApiError } from '../../shared/api'
import type { BatchRowView, RunBatchView } from '../../shared/batch-view'
import { tokenBytes } from '../../core/data/gpt2-tokenizer'
import { readShard, readShardMeta } from '../../core/data/shards'
import { inspectBatch } from '../../core/engine/batch-inspector'
import type { RunsRepo } from './store/runs-repo'

/** What each token completes of the text: a streaming UTF-8 decode, so a character split over two tokens lands on the second. */
export function tokenPieces(ids: number[]): string[] {
  const decoder = new TextDecoder('utf-8')
  const pieces = ids.map((id) => decoder.decode(tokenBytes(id), { stream: true }))
  const rest = decoder.decode()
  if (rest && pieces.length) pieces[pieces.length - 1] += rest
  return pieces
}

export function inspectRunBatch(runs: RunsRepo, runId: number, step: number, split: 'train' | 'val', maxRows: number): RunBatchView {
  const run = runs.get(runId)
  if (!run) throw new ApiError('not_found', `Run ${runId} does not exist.`)
  if (!run.datasetDir) throw new ApiError('not_found', `Run ${runId} has no dataset folder recorded.`)
  if (split === 'train' && step > run.config.steps) throw new ApiError('bad_input', `Run ${runId} trains ${run.config.steps} steps; step ${step} is past its end.`)
  const meta = readShardMeta(run.datasetDir)
  if (split === 'val' && !meta.splits.val) throw new ApiError('not_found', `The dataset of run ${runId} has no validation split.`)
  const b = inspectBatch({
    config: run.config,
    step,
    split,
    train: readShard(run.datasetDir, 'train'),
    val: meta.splits.val ? readShard(run.datasetDir, 'val') : null,
    checkpointsDir: path.join(run.dir, 'checkpoints')
  })
  const rows: BatchRowView[] = b.rows.slice(0, maxRows).map((r) => ({ ...r, pieces: tokenPieces(r.inputs) }))
  return { ...b, runId, rows }
}
