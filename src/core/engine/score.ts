// Scoring text under a model: mean next-token loss and perplexity over non-overlapping windows of
// the model's context, the first token predicted from end-of-text (as a document start).
import * as tf from '@tensorflow/tfjs'
import { END_OF_TEXT, encodeText } from '../data/gpt2-tokenizer'
import type { GPT } from './model'

export interface ScoreResult {
  tokens: number
  loss: number
  perplexity: number
}

export async function scoreText(model: GPT, text: string, batch = 8): Promise<ScoreResult> {
  const ids = [END_OF_TEXT, ...encodeText(text)]
  if (ids.length < 2) throw new Error('The text is empty: nothing to score.')
  const T = model.config.nCtx
  const windows: { inputs: number[]; targets: number[] }[] = []
  for (let s = 0; s < ids.length - 1; s += T) {
    const end = Math.min(s + T, ids.length - 1)
    windows.push({ inputs: ids.slice(s, end), targets: ids.slice(s + 1, end + 1) })
  }
  let sum = 0
  let count = 0
  // Windows of one length batch together; the last (shorter) one runs alone.
  for (let i = 0; i < windows.length;) {
    const len = windows[i].inputs.length
    const group: typeof windows = []
    while (i < windows.length && group.length < batch && windows[i].inputs.length === len) group.push(windows[i++])
    const loss = tf.tidy(() =>
      model.loss(
        tf.tensor2d(
          group.flatMap((w) => w.inputs),
          [group.length, len],
          'int32'
        ),
        tf.tensor2d(
          group.flatMap((w) => w.targets),
          [group.length, len],
          'int32'
        )
      )
    )
    sum += (await loss.data())[0] * group.length * len
    count += group.length * len
    loss.dispose()
  }
  const mean = sum / count
  return { tokens: count, loss: mean, perplexity: Math.exp(mean) }
}
