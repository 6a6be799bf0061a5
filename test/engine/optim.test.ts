// AdamW, the learning-rate schedules, gradient accumulation and clipping, and the ring all-reduce.
import * as tf from '@tensorflow/tfjs'
import { beforeAll, describe, expect, it } from 'vitest'
import { AdamW } from '../../src/core/engine/adamw'
import { initBackend } from '../../src/core/engine/backend'
import { GPT } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { joinRing, listen } from '../../src/core/engine/parallel/ring'
import { Rng } from '../../src/core/rng'
import { learningRate } from '../../src/core/engine/schedule'
import { sampleBatch } from '../../src/core/engine/batches'
import { computeGradients } from '../../src/core/engine/train-step'

beforeAll(async () => {
  await initBackend('cpu')
})

describe('AdamW', () => {
  it('follows the AdamW update (bias-corrected moments, decoupled decay on matrices only)', () => {
    const settings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }
    const params = new Map<string, tf.Variable>([
      ['h.0.mlp.c_fc.weight', tf.variable(tf.tensor2d([[1, -2]]))],
      ['h.0.mlp.c_fc.bias', tf.variable(tf.tensor1d([0.5, 3]))]
    ])
    const opt = new AdamW(settings, params)
    const gradSeq = [
      [
        [0.1, -0.3],
        [1, 2]
      ],
      [
        [-0.2, 0.4],
        [0.5, -1]
      ]
    ]
    // The same update written out in plain numbers (torch.optim.AdamW's algorithm).
    const ref = { w: [1, -2], b: [0.5, 3], mw: [0, 0], vw: [0, 0], mb: [0, 0], vb: [0, 0] }
    const lr = 0.01
    gradSeq.forEach(([gw, gb], i) => {
      const t = i + 1
      const upd = (p: number[], m: number[], v: number[], g: number[], decay: boolean) =>
        p.map((x, j) => {
          m[j] = 0.9 * m[j] + 0.1 * g[j]
          v[j] = 0.95 * v[j] + 0.05 * g[j] ** 2
          const mh = m[j] / (1 - 0.9 ** t)
          const vh = v[j] / (1 - 0.95 ** t)
          return x * (decay ? 1 - lr * 0.1 : 1) - (lr * mh) / (Math.sqrt(vh) + 1e-8)
        })
      ref.w = upd(ref.w, ref.mw, ref.vw, gw, true)
      ref.b = upd(ref.b, ref.mb, ref.vb, gb, false)
      opt.apply(
        params,
        new Map<string, tf.Tensor>([
          ['h.0.mlp.c_fc.weight', tf.tensor2d([gw])],
          ['h.0.mlp.c_fc.bias', tf.tensor1d(gb)]
        ]),
        lr
      )
    })
    const w = Array.from(params.get('h.0.mlp.c_fc.weight')!.dataSync())
    const b = Array.from(params.get('h.0.mlp.c_fc.bias')!.dataSync())
    w.forEach((x, j) => expect(x).toBeCloseTo(ref.w[j], 6))
    b.forEach((x, j) => expect(x).toBeCloseTo(ref.b[j], 6))
    expect(opt.state.step).toBe(2)
  })
})

describe('AdamW on the native kernels', () => {
  it.skipIf(!loadNative().kernels)('updates parameters in place as the tfjs update does, and leaves a live clone its values', async () => {
    const settings = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 }
    const run = async (backend: 'cpu' | 'native', keepClone: boolean) => {
      await initBackend(backend)
      const initial = tf.tensor2d([[1, -2, 0.25]])
      const params = new Map<string, tf.Variable>([['h.0.mlp.c_fc.weight', tf.variable(initial)]])
      initial.dispose() // the variable shares its storage until then
      const p = params.get('h.0.mlp.c_fc.weight')!
      const storage = p.dataId
      const clone = keepClone ? tf.clone(p) : null
      const opt = new AdamW(settings, params)
      for (const g of [
        [0.1, -0.3, 2],
        [-0.2, 0.4, 1]
      ])
        opt.apply(params, new Map([['h.0.mlp.c_fc.weight', tf.tensor2d([g])]]), 0.01)
      const out = { values: Array.from(p.dataSync()), inPlace: p.dataId === storage, clone: clone ? Array.from(clone.dataSync()) : null }
      opt.dispose()
      tf.dispose([p, ...(clone ? [clone] : [])])
      return out
    }
    const reference = await run('cpu', false)
    const native = await run('native', false)
    expect(native.inPlace).toBe(true)
    native.values.forEach((x, j) => expect(x).toBeCloseTo(reference.values[j], 6))
    const shared = await run('native', true)
    expect(shared.inPlace).toBe(false)
    expect(shared.clone).toEqual([1, -2, 0.25])
    shared.values.forEach((x, j) => expect(x).toBeCloseTo(reference.values[j], 6))
    await initBackend('cpu')
  })
})

describe('learning-rate schedules', () => {
  const base = { lr: 1e-3, minLr: 1e-4, warmupSteps: 10, totalSteps: 110 }
  it('warms up linearly to the peak', () => {
    expect(learningRate(0, { ...base, decay: 'cosine' })).toBeCloseTo(1e-4, 10)
    expect(learningRate(4, { ...base, decay: 'cosine' })).toBeCloseTo(5e-4, 10)
    expect(learningRate(9, { ...base, decay: 'cosine' })).toBeCloseTo(1e-3, 10)
  })
  it('decays by a half cosine to minLr', () => {
    expect(learningRate(10, { ...base, decay: 'cosine' })).toBeCloseTo(1e-3, 10)
    expect(learningRate(60, { ...base, decay: 'cosine' })).toBeCloseTo((1e-3 + 1e-4) / 2, 10)
    expect(learningRate(110, { ...base, decay: 'cosine' })).toBeCloseTo(1e-4, 10)
  })
  it("decays linearly to 0 as the seed's LinearWarmupLR", () => {
    const s = { ...base, minLr: 0, decay: 'linear' as const }
    expect(learningRate(60, s)).toBeCloseTo(5e-4, 10)
    expect(learningRate(110, s)).toBe(0)
  })
  it('stays constant after warm-up when asked', () => {
    expect(learningRate(100, { ...base, decay: 'constant' })).toBe(1e-3)
  })
})

describe('gradients', () => {
  const config = { nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 8, vocabSize: 100, dropout: 0, layerNormEps: 1e-5 }
  const tokens = Uint16Array.from({ length: 500 }, (_, i) => (i * 37 + (i >> 3)) % 100)

  it('accumulating two micro-batches gives the gradient of the whole batch', async () => {
    const model = new GPT(config)
    const batch = sampleBatch(tokens, 4, 8, new Rng(3))
    const whole = await computeGradients(model, [batch], 1, null, 0)
    const halves = [0, 1].map((h) => ({ inputs: batch.inputs.subarray(h * 16, h * 16 + 16), targets: batch.targets.subarray(h * 16, h * 16 + 16), batch: 2, seq: 8 }))
    const split = await computeGradients(model, halves, 1, null, 0)
    expect(split.loss).toBeCloseTo(whole.loss, 5)
    for (const [name, g] of whole.grads) {
      const a = g.dataSync()
      const b = split.grads.get(name)!.dataSync()
      a.forEach((x, i) => expect(Math.abs(x - b[i])).toBeLessThan(1e-6))
    }
    model.dispose()
  })

  it('clips by global norm to the limit and reports the norm before clipping', async () => {
    const model = new GPT(config)
    const batch = sampleBatch(tokens, 4, 8, new Rng(5))
    const free = await computeGradients(model, [batch], 1, null, 0)
    const clipped = await computeGradients(model, [batch], 1, null, free.gradNorm / 4)
    expect(clipped.gradNorm).toBeCloseTo(free.gradNorm, 4)
    const norm = Math.sqrt([...clipped.grads.values()].reduce((s, g) => s + g.square().sum().dataSync()[0], 0))
    expect(norm).toBeCloseTo(free.gradNorm / 4, 3)
    model.dispose()
  })
})

describe('ring all-reduce', () => {
  it('sums buffers across three workers over loopback, identically on each', async () => {
    const servers = await Promise.all([0, 1, 2].map(() => listen()))
    const ports = servers.map((s) => s.port)
    const rings = await Promise.all(servers.map((s, rank) => joinRing(rank, ports, s.server)))
    const n = 100_003 // not a multiple of 3: uneven chunks
    const buffers = rings.map((_, r) => Float32Array.from({ length: n }, (_, i) => (i % 7) + r * 0.5))
    await Promise.all(rings.map((ring, r) => ring.allReduce(buffers[r])))
    for (let i = 0; i < n; i += 997) expect(buffers[0][i]).toBeCloseTo(3 * (i % 7) + 1.5, 4)
    expect(Buffer.from(buffers[1].buffer).equals(Buffer.from(buffers[0].buffer))).toBe(true)
    expect(Buffer.from(buffers[2].buffer).equals(Buffer.from(buffers[0].buffer))).toBe(true)
    rings.forEach((r) => r.close())
  })
})
