// The tied embedding's lookup gradient added where the lm head's gradient already lies: the
// gradient tf.gather's backward gives the table [vocab, C] has rows only for the ids looked up,
// so it is summed per id and added into those rows in place, instead of being made as a second
// dense [vocab, C] table (154 MB at GPT-2 small) and added to the head's element by element.
import type * as tf from '@tensorflow/tfjs'
import { values } from './cpu-memory'

/**
 * acc += the gradient tf.gather's backward gives a table from the rows' gradients dRows [N, C] of
 * the lookup of ids [N], in place on the cpu backend (acc's storage must be its own), with the
 * same bits as adding that dense table: each id's rows are summed first, in order from 0 (as
 * UnsortedSegmentSum does), and the sum is added to acc's row once.
 */
export function addLookupGradient(acc: tf.Tensor, ids: tf.Tensor, dRows: tf.Tensor): void {
  const a = values(acc)
  const idv = values<Int32Array>(ids)
  const d = values(dRows)
  const C = dRows.shape[1]!
  const slot = new Map<number, number>()
  for (const id of idv) if (!slot.has(id)) slot.set(id, slot.size)
  const sums = new Float32Array(slot.size * C)
  for (let i = 0; i < idv.length; i++) for (let j = 0, s = slot.get(idv[i])! * C, r = i * C; j < C; j++) sums[s + j] += d[r + j]
  for (const [id, s] of slot) for (let j = 0, o = id * C; j < C; j++) a[o + j] += sums[s * C + j]
}
