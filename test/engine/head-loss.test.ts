// The native rung's fused head and loss for training (ops.ts tiedHeadLoss, native tiedHeadLoss):
// the loss and the gradients of ln_f's input, ln_f and wte are those of the tied head followed by
// the cross-entropy, bit for bit, at row counts that cut the rows into pieces in each way the
// kernel does (one piece, 256 + a few joined, 256 + a piece of its own, several), and scaled with
// the loss's gradient when that is not 1.
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { gradients } from '../../src/core/engine/backprop'
import { GPT, initParams } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { kernels } from '../../src/core/engine/ops'

// A vocabulary padded from 1000 to 1024 columns, so padded columns are in every piece.
const MODEL = { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 1024, vocabSize: 1000, dropout: 0, layerNormEps: 1e-5 }

function headGradients(model: GPT, x: tf.Tensor2D, targets: tf.Tensor2D, fused: boolean, lossScale = 1) {
  const { lnF, wte } = model
  return gradients(() => tf.mul(model.headLoss(x, targets, fused), lossScale) as tf.Scalar, [x, lnF.gain, lnF.bias, wte])
}

function bits(t: tf.Tensor): Uint32Array {
  return new Uint32Array(Float32Array.from(t.dataSync()).buffer)
}

describe.skipIf(!loadNative().kernels)('the fused head and loss (native)', () => {
  it.each([3, 40, 258, 300, 513, 1024])('equal the head then the cross-entropy, bit for bit, over %i rows', async (rows) => {
    await initBackend('native')
    expect(kernels().tiedHeadLoss).toBeDefined()
    const model = new GPT(MODEL, initParams(MODEL, 3))
    const x = tf.randomNormal([rows, MODEL.nEmbd], 0, 1, 'float32', rows) as tf.Tensor2D
    const targets = tf.tensor2d(
      Array.from({ length: rows }, (_, i) => (i * 389 + 7) % MODEL.vocabSize),
      [1, rows],
      'int32'
    )
    const plain = headGradients(model, x, targets, false)
    const fused = headGradients(model, x, targets, true)
    expect(fused.value.dataSync()[0]).toBe(plain.value.dataSync()[0])
    expect(plain.value.dataSync()[0]).toBeGreaterThan(0)
    for (let i = 0; i < plain.grads.length; i++) expect(bits(fused.grads[i]), `gradient ${i}`).toEqual(bits(plain.grads[i]))
    // The padded vocabulary rows of wte get no gradient.
    expect(Math.max(...fused.grads[3].slice([MODEL.vocabSize, 0], [24, MODEL.nEmbd]).abs().dataSync())).toBe(0)

    // A loss gradient other than 1 scales them (within float rounding: the scale is applied after).
    const scaledPlain = headGradients(model, x, targets, false, 0.25)
    const scaledFused = headGradients(model, x, targets, true, 0.25)
    for (let i = 0; i < plain.grads.length; i++) {
      const a = scaledPlain.grads[i].dataSync()
      const b = scaledFused.grads[i].dataSync()
      let worst = 0
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]) / (Math.abs(a[j]) + 1e-12))
      expect(worst, `scaled gradient ${i}`).toBeLessThan(1e-5)
    }
    tf.dispose([x, targets, plain.value, fused.value, scaledPlain.value, scaledFused.value, ...plain.grads, ...fused.grads, ...scaledPlain.grads, ...scaledFused.grads])
    model.dispose()
  })

  it('names a target outside the vocabulary', async () => {
    await initBackend('native')
    const model = new GPT(MODEL, initParams(MODEL, 3))
    const x = tf.ones([2, MODEL.nEmbd]) as tf.Tensor2D
    const targets = tf.tensor2d([[5, MODEL.vocabSize]], [1, 2], 'int32')
    expect(() => headGradients(model, x, targets, true)).toThrow(/target 1000 at row 1 is outside the vocabulary/)
    tf.dispose([x, targets])
    model.dispose()
  })
})
