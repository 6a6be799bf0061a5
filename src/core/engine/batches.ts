// Training batches: random windows of context + 1 tokens from a shard; inputs are the first T,
// targets the last T (next-token prediction). Documents are packed with end-of-text between them.
import type { Rng } from '../rng'

export interface Batch {
  inputs: Int32Array
  targets: Int32Array
  batch: number
  seq: number
}

export function sampleBatch(tokens: Uint16Array, batch: number, seq: number, rng: Rng): Batch {
  if (tokens.length < seq + 1) {
    throw new Error(`The token shard has ${tokens.length} tokens, fewer than one window of ${seq + 1}: use a bigger dataset or a shorter context.`)
  }
  const inputs = new Int32Array(batch * seq)
  const targets = new Int32Array(batch * seq)
  for (let b = 0; b < batch; b++) {
    const start = rng.int(tokens.length - seq)
    for (let t = 0; t < seq; t++) {
      inputs[b * seq + t] = tokens[start + t]
      targets[b * seq + t] = tokens[start + t + 1]
    }
  }
  return { inputs, targets, batch, seq }
}

/** Consecutive, non-overlapping windows covering a shard from the start (for validation loss). */
export function* sequentialBatches(tokens: Uint16Array, batch: number, seq: number, maxBatches: number): Generator<Batch> {
  let start = 0
  for (let n = 0; n < maxBatches; n++) {
    const rows: number[] = []
    while (rows.length < batch && start + seq + 1 <= tokens.length) {
      rows.push(start)
      start += seq
    }
    if (!rows.length) return
    const inputs = new Int32Array(rows.length * seq)
    const targets = new Int32Array(rows.length * seq)
    rows.forEach((s, b) => {
      for (let t = 0; t < seq; t++) {
        inputs[b * seq + t] = tokens[s + t]
        targets[b * seq + t] = tokens[s + t + 1]
      }
    })
    yield { inputs, targets, batch: rows.length, seq }
  }
}
