// The batch inspector: the tokens a run trained on at step N, reproduced rather than stored. The
// trainer draws each step's global batch with sampleBatch (one rng.int per row) from one mulberry32
// whose state is the seed at step 0 and is saved in every checkpoint's trainer state, so replaying
// (N-1) x batchSize draws from the seed, or fewer from the nearest checkpoint at or before step
// N-1, gives the same windows. Validation batches are the shard's first consecutive windows
// (sequentialBatches), the same at every evaluation. Rows are decoded with the document
// boundaries (end-of-text) marked, and the share of documents more than one row saw is counted.
import fs from 'node:fs'
import path from 'node:path'
import type { TrainConfig } from '../../shared/config/train'
import { END_OF_TEXT, decodeTokens } from '../data/gpt2-tokenizer'
import { Rng } from '../rng'
import { type Batch, sampleBatch, sequentialBatches } from './batches'
import { TRAINER_FILE, TrainerStateFile, listCheckpoints } from './checkpoint'

export const END_OF_TEXT_MARK = '<|endoftext|>'

export interface InspectedRow {
  /** Offset in the shard of the row's first input token. */
  start: number
  /** Input ids (T of them); row position t predicts targets[t] = the shard's token at start + t + 1. */
  inputs: number[]
  targets: number[]
  /** Positions (0..T-1) in inputs that are end-of-text. */
  boundaries: number[]
  /** The inputs decoded, each end-of-text written as <|endoftext|>. */
  text: string
  /** Index (in the shard) of each document the row touches, a document being the tokens between two end-of-texts. */
  documents: number[]
}

export interface InspectedBatch {
  split: 'train' | 'val'
  step: number
  batch: number
  seq: number
  rows: InspectedRow[]
  /** Where the sampler state came from: the seed, or a checkpoint's trainer state. */
  replayedFrom: { kind: 'seed'; seed: number } | { kind: 'checkpoint'; step: number; dir: string }
  /** Draws replayed to reach the step (rows of earlier steps). */
  draws: number
  /** Packed windows: no padding, ever. */
  paddingShare: 0
  endOfTextTokens: number
  /** Distinct documents in the batch, those seen by more than one row, and their share. */
  documents: number
  repeatedDocuments: number
  repeatedDocumentShare: number
  /** Share of the batch's tokens at shard positions another row also covers (overlapping windows). */
  repeatedTokenShare: number
}

/** A sampler state to replay from: the seed at step 0 or a checkpoint's trainer state. */
export interface SamplerStart {
  step: number
  rngState: number
  from: InspectedBatch['replayedFrom']
}

/** The nearest saved sampler state at or before `step` - 1 in a run's checkpoint folder, else the seed. */
export function samplerStart(config: Pick<TrainConfig, 'seed'>, checkpointsDir: string | null, step: number): SamplerStart {
  const seed: SamplerStart = { step: 0, rngState: config.seed >>> 0, from: { kind: 'seed', seed: config.seed } }
  if (!checkpointsDir) return seed
  const candidates = listCheckpoints(checkpointsDir)
    .filter((c) => c.step <= step - 1)
    .reverse()
  for (const c of candidates) {
    try {
      const state = TrainerStateFile.parse(JSON.parse(fs.readFileSync(path.join(c.dir, TRAINER_FILE), 'utf8')))
      return { step: state.step, rngState: state.rngState, from: { kind: 'checkpoint', step: state.step, dir: c.dir } }
    } catch {
      // A model-only or damaged checkpoint: try an earlier one.
    }
  }
  return seed
}

/** The global batch of training step `step` (from 1) and the shard offset of each row. */
export function trainingBatch(train: Uint16Array, config: Pick<TrainConfig, 'batchSize' | 'model'>, step: number, start: SamplerStart): { batch: Batch; starts: number[]; draws: number } {
  if (!Number.isInteger(step) || step < 1) throw new Error(`Steps count from 1; got ${step}.`)
  if (start.step > step - 1) throw new Error(`The sampler state is from step ${start.step}, after step ${step}'s draws.`)
  const { batchSize } = config
  const T = config.model.nCtx
  const rng = new Rng(start.rngState)
  const draws = (step - 1 - start.step) * batchSize
  for (let i = 0; i < draws; i++) rng.int(train.length - T)
  // The row starts from a copy of the state, then the batch itself through the trainer's own sampler.
  const peek = new Rng(rng.state)
  const starts = Array.from({ length: batchSize }, () => peek.int(train.length - T))
  return { batch: sampleBatch(train, batchSize, T, rng), starts, draws }
}

/** The first validation batch, as the trainer's validationLoss draws it on each worker. */
export function validationBatch(val: Uint16Array, config: Pick<TrainConfig, 'batchSize' | 'model' | 'devices'>): { batch: Batch; starts: number[] } {
  const perWorker = Math.max(1, config.batchSize / Math.max(1, config.devices.length))
  const first = sequentialBatches(val, perWorker, config.model.nCtx, 1).next()
  if (first.done) throw new Error(`The validation split has ${val.length} tokens, fewer than one window of ${config.model.nCtx + 1}.`)
  return { batch: first.value, starts: Array.from({ length: first.value.batch }, (_, b) => b * config.model.nCtx) }
}

/** Sorted shard positions of end-of-text, to number documents. */
function boundaryIndex(tokens: Uint16Array): Int32Array {
  let n = 0
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === END_OF_TEXT) n++
  const out = new Int32Array(n)
  let k = 0
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === END_OF_TEXT) out[k++] = i
  return out
}

/** Document number of shard position p: how many end-of-texts come strictly before it (an end-of-text counts with the text before it). */
function documentAt(eots: Int32Array, p: number): number {
  let lo = 0
  let hi = eots.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (eots[mid] < p) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Rows decoded, boundaries marked, and the repetition counts for a batch drawn from `tokens`. */
export function describeBatch(tokens: Uint16Array, batch: Batch, starts: number[], meta: Pick<InspectedBatch, 'split' | 'step' | 'replayedFrom' | 'draws'>): InspectedBatch {
  const eots = boundaryIndex(tokens)
  const T = batch.seq
  const rows: InspectedRow[] = starts.map((start, b) => {
    const inputs = Array.from(batch.inputs.subarray(b * T, (b + 1) * T))
    const boundaries = inputs.flatMap((id, t) => (id === END_OF_TEXT ? [t] : []))
    const first = documentAt(eots, start)
    const last = documentAt(eots, start + T - 1)
    return {
      start,
      inputs,
      targets: Array.from(batch.targets.subarray(b * T, (b + 1) * T)),
      boundaries,
      text: decodeTokens(inputs),
      documents: Array.from({ length: last - first + 1 }, (_, i) => first + i)
    }
  })
  const seenBy = new Map<number, number>()
  for (const r of rows) for (const d of r.documents) seenBy.set(d, (seenBy.get(d) ?? 0) + 1)
  const repeatedDocuments = [...seenBy.values()].filter((n) => n > 1).length
  const covered = new Map<number, number>()
  for (const r of rows) for (let t = 0; t < T; t++) covered.set(r.start + t, (covered.get(r.start + t) ?? 0) + 1)
  let repeatedTokens = 0
  for (const r of rows) for (let t = 0; t < T; t++) if (covered.get(r.start + t)! > 1) repeatedTokens++
  return {
    ...meta,
    batch: rows.length,
    seq: T,
    rows,
    paddingShare: 0,
    endOfTextTokens: rows.reduce((n, r) => n + r.boundaries.length, 0),
    documents: seenBy.size,
    repeatedDocuments,
    repeatedDocumentShare: seenBy.size ? repeatedDocuments / seenBy.size : 0,
    repeatedTokenShare: rows.length ? repeatedTokens / (rows.length * T) : 0
  }
}

export interface InspectOptions {
  config: Pick<TrainConfig, 'seed' | 'batchSize' | 'model' | 'devices'>
  step: number
  split: 'train' | 'val'
  train: Uint16Array
  val: Uint16Array | null
  /** The run's checkpoints folder, to replay from the nearest saved sampler state. */
  checkpointsDir?: string | null
}

/** The batch step `step` trained on (or the validation batch), decoded and counted. */
export function inspectBatch(o: InspectOptions): InspectedBatch {
  if (o.split === 'val') {
    if (!o.val) throw new Error('The dataset has no validation split.')
    const { batch, starts } = validationBatch(o.val, o.config)
    return describeBatch(o.val, batch, starts, { split: 'val', step: o.step, replayedFrom: { kind: 'seed', seed: o.config.seed }, draws: 0 })
  }
  const start = samplerStart(o.config, o.checkpointsDir ?? null, o.step)
  const { batch, starts, draws } = trainingBatch(o.train, o.config, o.step, start)
  return describeBatch(o.train, batch, starts, { split: 'train', step: o.step, replayedFrom: start.from, draws })
}
