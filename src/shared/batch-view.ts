// The batch inspector's reply (`runs.batch`): the rows a run trained on at a step (or its
// validation batch), reproduced from the sampler by src/core/engine/batch-inspector.ts, with each
// token's text so the view can show ids and positions on hover.

export interface BatchRowView {
  /** Offset in the shard of the row's first input token. */
  start: number
  /** Input ids (T of them); position t predicts targets[t]. */
  inputs: number[]
  targets: number[]
  /** Positions in inputs that are end-of-text. */
  boundaries: number[]
  /** The inputs decoded, each end-of-text written as <|endoftext|>. */
  text: string
  /** The text each token completes: pieces.join('') === text ('' for a token ending mid-character). */
  pieces: string[]
  /** Index in the shard of each document the row touches. */
  documents: number[]
}

export interface RunBatchView {
  runId: number
  split: 'train' | 'val'
  step: number
  /** Rows in the batch and tokens per row. */
  batch: number
  seq: number
  /** The first rows (all counts below are over the whole batch). */
  rows: BatchRowView[]
  replayedFrom: { kind: 'seed'; seed: number } | { kind: 'checkpoint'; step: number; dir: string }
  draws: number
  /** Packed windows: never padded. */
  paddingShare: number
  endOfTextTokens: number
  documents: number
  repeatedDocuments: number
  repeatedDocumentShare: number
  repeatedTokenShare: number
}
