// Saving and loading live training objects: a GPT and its AdamW saved mid-run and loaded back
// continue exactly as the originals would have (the resume property, at the unit level), and
// the saved run folder is pruned to the last N.
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import type { ModelConfig } from '../src/shared/config/model'
import { AdamW, type AdamWSettings } from '../src/core/engine/adamw'
import { initBackend } from '../src/core/engine/backend'
import { listCheckpoints } from '../src/core/engine/checkpoint'
import { loadTraining, saveTrainingCheckpoint, toHost } from '../src/core/engine/checkpoint-tf'
import { GPT } from '../src/core/engine/model'
import { tempDir } from './helpers'

const CONFIG: ModelConfig = { nLayer: 2, nHead: 2, nEmbd: 16, nCtx: 8, vocabSize: 70, dropout: 0, layerNormEps: 1e-5 }
const SETTINGS: AdamWSettings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }

/** The real gradients of the loss on a fixed batch. */
function gradients(model: GPT): Map<string, tf.Tensor> {
  const ids = Int32Array.from({ length: 2 * 9 }, (_, i) => (i * 37 + 11) % CONFIG.vocabSize)
  const x = tf.tensor2d(
    ids.filter((_, i) => i % 9 !== 8),
    [2, 8],
    'int32'
  )
  const y = tf.tensor2d(
    ids.filter((_, i) => i % 9 !== 0),
    [2, 8],
    'int32'
  )
  const names = [...model.params.keys()]
  const { value, grads } = tf.variableGrads(
    () => model.loss(x, y),
    names.map((n) => model.p(n))
  )
  tf.dispose([x, y, value])
  return new Map(names.map((n) => [n, grads[model.p(n).name]]))
}

function step(model: GPT, opt: AdamW, lr: number): void {
  const g = gradients(model)
  opt.apply(model.params, g, lr)
  tf.dispose([...g.values()])
}

describe('training checkpoints (tfjs)', () => {
  it('a model and optimizer loaded from a checkpoint take the same next steps as the originals', async () => {
    await initBackend('cpu')
    const root = tempDir()
    const model = new GPT(CONFIG)
    const opt = new AdamW(SETTINGS, model.params)
    step(model, opt, 1e-2)
    step(model, opt, 1e-2)
    const trainer = { step: 2, rngState: 42, tokensSeen: 32, elapsedSeconds: 0.5 }
    const dir = await saveTrainingCheckpoint(root, { model, optimizer: opt, trainer, step: 2, keepLast: 2 })
    step(model, opt, 5e-3)
    step(model, opt, 5e-3)
    const expected = await toHost(model.params)
    const moments = await toHost(opt.state.v)
    model.dispose()
    opt.dispose()

    const loaded = loadTraining(dir, { settings: SETTINGS, expect: CONFIG })
    expect(loaded.trainer).toEqual(trainer)
    expect(loaded.optimizer!.state.step).toBe(2)
    step(loaded.model, loaded.optimizer!, 5e-3)
    step(loaded.model, loaded.optimizer!, 5e-3)
    const got = await toHost(loaded.model.params)
    const gotMoments = await toHost(loaded.optimizer!.state.v)
    for (const [name, t] of expected) expect(Buffer.from(got.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true)
    for (const [name, t] of moments) expect(Buffer.from(gotMoments.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), `v ${name}`).toBe(true)
    // A second copy loads beside the first (two checkpoints side by side) and is independent of it.
    const second = loadTraining(dir)
    loaded.model.dispose()
    const secondWeights = await toHost(second.model.params)
    expect(secondWeights.get('wte.weight')!.shape).toEqual(expected.get('wte.weight')!.shape)
    second.model.dispose()
    loaded.optimizer!.dispose()
  })

  it('saves step folders under a run root and keeps the last N', async () => {
    await initBackend('cpu')
    const root = tempDir()
    const model = new GPT(CONFIG)
    for (const s of [1, 2, 3]) await saveTrainingCheckpoint(root, { model, step: s, keepLast: 2 })
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 3])
    const saved = await toHost(model.params)
    model.dispose()
    const { model: back, optimizer } = loadTraining(listCheckpoints(root)[1].dir, { settings: SETTINGS })
    expect(optimizer).toBeUndefined() // none was saved
    const got = await toHost(back.params)
    for (const [name, t] of saved) expect(Buffer.from(got.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true)
    back.dispose()
  })
})
