// One optimizer step's gradient work: forward and backward over micro-batches, accumulation,
// the cross-worker all-reduce, and clipping by global norm. Returns the mean loss and the norm.
import * as tf from '@tensorflow/tfjs'
import { checkpointedLossAndGrads } from './activation-checkpoint'
import { gradients } from './backprop'
import type { Batch } from './batches'
import { soleOwner, values, wrap } from './cpu-memory'
import { kernels } from './kernels'
import { addLookupGradient } from './lookup-gradient'
import type { GPT } from './model'

export interface GradientResult {
  grads: Map<string, tf.Tensor>
  loss: number
  /** Global gradient norm before clipping. */
  gradNorm: number
}

/** Sums a flat buffer element-wise across all workers, in place. Identity for one worker. */
export type AllReduce = (buffer: Float32Array) => Promise<void>

/**
 * Computes the gradient of the mean loss over `microBatches` (each this worker's slice of a
 * micro-batch), averaged over `worldSize` workers by `allReduce`, clipped to `clip` (0: none).
 * `checkpoint`: activation checkpointing per block (activation-checkpoint.ts), same gradients.
 */
export async function computeGradients(model: GPT, microBatches: Batch[], worldSize: number, allReduce: AllReduce | null, clip: number, checkpoint = false): Promise<GradientResult> {
  const names = [...model.params.keys()]
  const vars = names.map((n) => model.params.get(n)!)
  let acc: tf.Tensor[] | null = null
  let lossSum = 0
  const scale = 1 / (microBatches.length * worldSize)
  for (const mb of microBatches) {
    const x = tf.tensor2d(mb.inputs, [mb.batch, mb.seq], 'int32')
    const y = tf.tensor2d(mb.targets, [mb.batch, mb.seq], 'int32')
    const { value, grads } = checkpoint ? checkpointedLossAndGrads(model, x, y, true) : lossAndGrads(model, x, y, vars)
    lossSum += (await value.data())[0]
    value.dispose()
    x.dispose()
    y.dispose()
    // variableGrads keys gradients by tfjs variable name (unique per process, not our parameter name).
    // One micro-batch on one worker needs no scaling: skip a pass over every gradient.
    const scaled = vars.map((v) => (scale === 1 ? grads[v.name] : tf.tidy(() => tf.mul(grads[v.name], scale))))
    if (scale !== 1) for (const g of Object.values(grads)) g.dispose()
    if (!acc) acc = scaled
    else {
      const prev: tf.Tensor[] = acc
      acc = prev.map((a, i) => tf.add(a, scaled[i]))
      tf.dispose([...prev, ...scaled])
    }
  }
  let loss = lossSum / microBatches.length
  if (worldSize > 1 && allReduce) {
    const reduced = await reduceAcrossWorkers(acc!, loss / worldSize, allReduce)
    acc = reduced.grads
    loss = reduced.loss
  }
  const gradNorm = Math.sqrt(await kernels().sumOfSquares(acc!))
  if (clip > 0 && gradNorm > clip) {
    const factor = clip / (gradNorm + 1e-6)
    const prev = acc!
    acc = prev.map((g) => tf.mul(g, factor))
    tf.dispose(prev)
  }
  return { grads: new Map(names.map((n, i) => [n, acc![i]])), loss, gradNorm }
}

/** The loss and its gradients keyed by tfjs variable name, as tf.variableGrads returns them, the backward freeing memory as it goes (backprop.ts). */
function lossAndGrads(model: GPT, x: tf.Tensor2D, y: tf.Tensor2D, vars: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const named = (grads: tf.Tensor[]): tf.NamedTensorMap => Object.fromEntries(vars.map((v, i) => [v.name, grads[i]]))
  if (kernels().name !== 'native') {
    const { value, grads } = gradients(() => model.loss(x, y, true), vars)
    return { value, grads: named(grads) }
  }
  // On the native rung the token lookup stays off the tape: the tape gives the gradient of the
  // looked-up rows, which is added into the tied head's wte gradient in place (lookup-gradient.ts),
  // not made as a dense [vocab, C] table and added element by element. The same bits.
  const ids = tf.tidy(() => tf.reshape(x, [-1]) as tf.Tensor1D)
  const tokens = tf.gather(model.wte, ids) as tf.Tensor2D
  const { value, grads } = gradients(() => model.loss(x, y, true, tokens), [...vars, tokens])
  const dTokens = grads.pop()!
  const w = vars.indexOf(model.wte as tf.Variable)
  if (!soleOwner(grads[w])) {
    // Its storage is shared (never so today): add into a copy of its own.
    const copy = wrap(values(grads[w]).slice(), grads[w].shape)
    grads[w].dispose()
    grads[w] = copy
  }
  addLookupGradient(grads[w], ids, dTokens)
  tf.dispose([ids, tokens, dTokens])
  return { value, grads: named(grads) }
}

/** Flattens gradients (and the loss, in the last slot) into one buffer, sums it across workers, and unpacks it. */
async function reduceAcrossWorkers(grads: tf.Tensor[], lossShare: number, allReduce: AllReduce): Promise<{ grads: tf.Tensor[]; loss: number }> {
  const sizes = grads.map((g) => g.size)
  const flat = new Float32Array(sizes.reduce((a, b) => a + b, 0) + 1)
  let offset = 0
  for (const g of grads) {
    flat.set(await g.data<'float32'>(), offset)
    offset += g.size
  }
  flat[offset] = lossShare
  await allReduce(flat)
  offset = 0
  const out = grads.map((g) => {
    const t = tf.tensor(flat.subarray(offset, offset + g.size), g.shape, 'float32')
    offset += g.size
    return t
  })
  tf.dispose(grads)
  return { grads: out, loss: flat[offset] }
}
