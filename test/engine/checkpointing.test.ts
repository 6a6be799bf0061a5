// Activation checkpointing per block (activation-checkpoint.ts): the gradients with the blocks'
// forwards recomputed inside the backward are those of the whole-model tape, bit for bit, on each
// kernel set (native when the addon is built, wasm, stock cpu); with dropout the recomputation
// drops what the first forward dropped; a Trainer with the config key on takes the same steps; and
// with it on, the committed tiny checkpoint's loss and gradients match the PyTorch goldens
// (tools/torch_reference.py, float64) within 1e-4 relative on native (its own attention) and wasm.
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { checkpointedLossAndGrads } from '../../src/core/engine/activation-checkpoint'
import { initBackend } from '../../src/core/engine/backend'
import { gradients } from '../../src/core/engine/backprop'
import { sampleBatch } from '../../src/core/engine/batches'
import { GPT, block, initParams } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { kernels } from '../../src/core/engine/ops'
import { computeGradients } from '../../src/core/engine/train-step'
import { type StepMetrics, Trainer } from '../../src/core/engine/trainer'
import { inlineContext } from '../../src/core/job-context'
import { Rng } from '../../src/core/rng'
import { loadTraining } from '../../src/core/engine/checkpoint-tf'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { TrainConfig } from '../../src/shared/config/train'
import { ROOT } from '../helpers'

const MODEL = { nLayer: 3, nHead: 2, nEmbd: 32, nCtx: 16, vocabSize: 100, dropout: 0, layerNormEps: 1e-5 }
const tokens = Uint16Array.from({ length: 2000 }, (_, i) => (i * 37 + (i >> 3) + ((i * i) % 11)) % 100)

/** Largest absolute difference between two gradient maps over the same parameters, and how many parameters they cover. */
function maxDifference(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor>): { diff: number; count: number } {
  let diff = 0
  for (const [name, g] of a) {
    const x = g.dataSync()
    const y = b.get(name)!.dataSync()
    expect(y.length).toBe(x.length)
    for (let i = 0; i < x.length; i++) diff = Math.max(diff, Math.abs(x[i] - y[i]))
  }
  return { diff, count: a.size }
}

const backends = ['native', 'wasm', 'cpu'] as const

describe.each(backends)('activation checkpointing on %s', (backend) => {
  const skip = backend === 'native' && !loadNative()
  it.skipIf(skip)('gives the gradients of the whole-model tape, bit for bit, over two micro-batches', async () => {
    await initBackend(backend)
    const model = new GPT(MODEL, initParams(MODEL, 5))
    const batch = sampleBatch(tokens, 4, MODEL.nCtx, new Rng(9))
    const halves = [0, 1].map((h) => ({ inputs: batch.inputs.subarray(h * 32, h * 32 + 32), targets: batch.targets.subarray(h * 32, h * 32 + 32), batch: 2, seq: MODEL.nCtx }))
    const off = await computeGradients(model, halves, 1, null, 0, false)
    const before = tf.memory().numTensors // after the first forward made the model's causal mask
    const on = await computeGradients(model, halves, 1, null, 0, true)
    expect(on.loss).toBe(off.loss)
    expect(on.gradNorm).toBe(off.gradNorm)
    expect(on.gradNorm).toBeGreaterThan(0)
    const { diff, count } = maxDifference(off.grads, on.grads)
    expect(count).toBe(model.params.size)
    expect(diff).toBe(0)
    tf.dispose([...on.grads.values()])
    // Nothing left behind: the kept block inputs and the recomputed activations are all freed.
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([...off.grads.values()])
    model.dispose()
  })
})

describe('the freeing backward (backprop.ts)', () => {
  it.each(backends)("gives tfjs's own gradients bit for bit on %s and leaves no tensor behind", async (backend) => {
    if (backend === 'native' && !loadNative().kernels) return
    await initBackend(backend)
    const model = new GPT(MODEL, initParams(MODEL, 7))
    const batch = sampleBatch(tokens, 2, MODEL.nCtx, new Rng(2))
    const x = tf.tensor2d(batch.inputs, [2, MODEL.nCtx], 'int32')
    const y = tf.tensor2d(batch.targets, [2, MODEL.nCtx], 'int32')
    const vars = [...model.params.values()]
    const reference = tf.variableGrads(() => model.loss(x, y), vars)
    const before = tf.memory().numTensors
    const ours = gradients(() => model.loss(x, y), vars)
    expect(ours.value.dataSync()[0]).toBe(reference.value.dataSync()[0])
    const byName = new Map(vars.map((v, i) => [v.name, ours.grads[i]]))
    expect(maxDifference(new Map(vars.map((v) => [v.name, reference.grads[v.name]])), byName)).toEqual({ diff: 0, count: vars.length })
    tf.dispose([ours.value, ...ours.grads])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, y, reference.value, ...Object.values(reference.grads)])
    model.dispose()
  })
})

describe('the token lookup kept off the tape (train-step.ts, native rung)', () => {
  it.skipIf(!loadNative().kernels)("gives tfjs's own gradients bit for bit, the tied wte's included, with ids repeated in the batch", async () => {
    await initBackend('native')
    const model = new GPT(MODEL, initParams(MODEL, 11))
    const batch = sampleBatch(tokens, 4, MODEL.nCtx, new Rng(3))
    expect(new Set(batch.inputs).size).toBeLessThan(batch.inputs.length)
    const x = tf.tensor2d(batch.inputs, [4, MODEL.nCtx], 'int32')
    const y = tf.tensor2d(batch.targets, [4, MODEL.nCtx], 'int32')
    const reference = tf.variableGrads(() => model.loss(x, y, true), [...model.params.values()])
    const before = tf.memory().numTensors
    const ours = await computeGradients(model, [batch], 1, null, 0, false)
    expect(ours.loss).toBe(reference.value.dataSync()[0])
    const want = new Map([...model.params].map(([name, v]) => [name, reference.grads[v.name]]))
    expect(maxDifference(want, ours.grads)).toEqual({ diff: 0, count: model.params.size })
    tf.dispose([...ours.grads.values()])
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([x, y, reference.value, ...Object.values(reference.grads)])
    model.dispose()
  })
})

describe('activation checkpointing with dropout', () => {
  it('recomputes each block with the masks of its first forward', async () => {
    await initBackend(loadNative() ? 'native' : 'wasm')
    const config = { ...MODEL, dropout: 0.2 }
    const model = new GPT(config, initParams(config, 6))
    const batch = sampleBatch(tokens, 2, config.nCtx, new Rng(4))
    const x = tf.tensor2d(batch.inputs, [2, config.nCtx], 'int32')
    const y = tf.tensor2d(batch.targets, [2, config.nCtx], 'int32')
    const seed = 1234
    const on = checkpointedLossAndGrads(model, x, y, true, seed)
    // The whole-model tape with the segments' seeds (embedding: seed, block i: seed + 8 (i + 1)).
    const vars = [...model.params.values()]
    const off = tf.variableGrads(() => {
      const attend = model.causalAttention(2, config.nCtx)
      let h = model.embed(x, 0, model.dropout(true, seed))
      model.blocks.forEach((p, i) => (h = block(kernels(), h, p, (qkv) => attend(qkv, i), config.layerNormEps, model.dropout(true, seed + 8 * (i + 1)))))
      return model.headLoss(h, y)
    }, vars)
    expect(on.value.dataSync()[0]).toBe(off.value.dataSync()[0])
    const byName = (g: tf.NamedTensorMap) => new Map(vars.map((v) => [v.name, g[v.name]]))
    expect(maxDifference(byName(off.grads), byName(on.grads)).diff).toBe(0)
    // Dropout did act: without it the loss differs.
    const plain = tf.tidy(() => model.loss(x, y, false).dataSync()[0])
    expect(plain).not.toBe(on.value.dataSync()[0])
    tf.dispose([on.value, off.value, ...Object.values(on.grads), ...Object.values(off.grads), x, y])
    model.dispose()
  })
})

describe('the activationCheckpointing config key', () => {
  it('trains a run to the same losses and gradient norms as without it', async () => {
    await initBackend(loadNative() ? 'native' : 'wasm')
    const run = async (activationCheckpointing: boolean): Promise<StepMetrics[]> => {
      const config = TrainConfig.parse({ model: MODEL, batchSize: 4, microBatches: 2, steps: 3, optimizer: { lr: 3e-3 }, eval: { interval: 0 }, seed: 3, activationCheckpointing })
      const model = new GPT(config.model, initParams(config.model, 8))
      const metrics: StepMetrics[] = []
      const trainer = new Trainer({ config, model, train: tokens, val: null, ctx: inlineContext(), onStep: (m) => metrics.push(m) })
      await trainer.run()
      trainer.optimizer.dispose()
      model.dispose()
      return metrics
    }
    const off = await run(false)
    const on = await run(true)
    expect(on.map((m) => [m.loss, m.gradNorm])).toEqual(off.map((m) => [m.loss, m.gradNorm]))
    expect(on[2].loss).toBeLessThan(on[0].loss)
  })
})

describe('activation checkpointing against the PyTorch goldens', () => {
  const golden = readSafetensors(path.join(ROOT, 'test', 'goldens', 'tiny-gpt.golden.safetensors'))
  const gradNames = golden.metadata.grads.split(',')
  /** max |ours - torch| / max |torch|, as test/torch-reference.test.ts measures it. */
  const relativeError = (got: ArrayLike<number>, want: ArrayLike<number>): number => {
    let diff = 0
    let scale = 0
    for (let i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]))
      scale = Math.max(scale, Math.abs(want[i]))
    }
    return diff / scale
  }
  it.each(['native', 'wasm'] as const)('matches the loss and the named gradients on %s', async (backend) => {
    if (backend === 'native' && !loadNative().kernels) return
    await initBackend(backend)
    const { model } = loadTraining(path.join(ROOT, 'test', 'goldens', 'tiny-gpt-hf'))
    const [B, T] = golden.tensors.get('inputs')!.shape
    const x = tf.tensor2d(Int32Array.from(golden.tensors.get('inputs')!.data), [B, T], 'int32')
    const y = tf.tensor2d(Int32Array.from(golden.tensors.get('targets')!.data), [B, T], 'int32')
    const { value, grads } = checkpointedLossAndGrads(model, x, y, false)
    const errors: Record<string, number> = { loss: relativeError(value.dataSync(), golden.tensors.get('loss')!.data) }
    for (const n of gradNames) errors[`grad ${n}`] = relativeError(grads[model.p(n).name].dataSync(), golden.tensors.get(`grad.${n}`)!.data)
    expect(gradNames.length).toBeGreaterThan(3)
    expect(
      Object.entries(errors).filter(([, e]) => !(e < 1e-4)),
      JSON.stringify(errors)
    ).toEqual([])
    tf.dispose([x, y, value, ...Object.values(grads)])
    model.dispose()
  })
})
