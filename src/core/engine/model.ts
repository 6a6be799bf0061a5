// GPT-2 in tfjs: token + position embeddings, pre-LayerNorm blocks with causal multi-head
// self-attention and a tanh-GELU MLP, a final LayerNorm, and the lm head tied to the token
// embedding. Parameters live in a Map under their Hugging Face names (param-names.ts).
import * as tf from '@tensorflow/tfjs'
import { type ModelConfig, paddedVocab } from '../../shared/config/model'
import { causalMask, causalSelfAttention, crossEntropy, gelu, layerNorm, linear, tiedHead } from './ops'
import { parameterShapes } from './param-names'

export type Params = Map<string, tf.Variable>

export class GPT {
  readonly params: Params
  readonly vocabPadded: number
  private readonly masks = new Map<number, tf.Tensor2D>()

  constructor(
    readonly config: ModelConfig,
    params?: Params
  ) {
    this.vocabPadded = paddedVocab(config.vocabSize)
    this.params = params ?? initParams(config, 1337)
  }

  p(name: string): tf.Variable {
    const v = this.params.get(name)
    if (!v) throw new Error(`Model has no parameter ${name}`)
    return v
  }

  /** Final hidden states [B*T, C] for token ids [B, T]. */
  hidden(idx: tf.Tensor2D, training = false): tf.Tensor2D {
    const [B, T] = idx.shape
    const c = this.config
    if (T > c.nCtx) throw new Error(`Sequence of ${T} tokens is longer than the model's context of ${c.nCtx}.`)
    const C = c.nEmbd
    const tok = tf.gather(this.p('wte.weight'), tf.reshape(idx, [-1]))
    const pos = tf.slice(this.p('wpe.weight'), [0, 0], [T, C])
    let x = tf.reshape(tf.add(tf.reshape(tok, [B, T, C]), pos), [B * T, C]) as tf.Tensor2D
    x = this.dropout(x, training)
    const mask = this.mask(T)
    for (let i = 0; i < c.nLayer; i++) {
      const h = `h.${i}.`
      const a = layerNorm(x, this.p(h + 'ln_1.weight') as tf.Tensor1D, this.p(h + 'ln_1.bias') as tf.Tensor1D, c.layerNormEps)
      const qkv = linear(a, this.p(h + 'attn.c_attn.weight') as tf.Tensor2D, this.p(h + 'attn.c_attn.bias') as tf.Tensor1D)
      const att = causalSelfAttention(qkv, B, T, c.nHead, mask)
      x = tf.add(x, this.dropout(linear(att, this.p(h + 'attn.c_proj.weight') as tf.Tensor2D, this.p(h + 'attn.c_proj.bias') as tf.Tensor1D), training))
      const m = layerNorm(x, this.p(h + 'ln_2.weight') as tf.Tensor1D, this.p(h + 'ln_2.bias') as tf.Tensor1D, c.layerNormEps)
      const fc = gelu(linear(m, this.p(h + 'mlp.c_fc.weight') as tf.Tensor2D, this.p(h + 'mlp.c_fc.bias') as tf.Tensor1D)) as tf.Tensor2D
      x = tf.add(x, this.dropout(linear(fc, this.p(h + 'mlp.c_proj.weight') as tf.Tensor2D, this.p(h + 'mlp.c_proj.bias') as tf.Tensor1D), training))
    }
    return layerNorm(x, this.p('ln_f.weight') as tf.Tensor1D, this.p('ln_f.bias') as tf.Tensor1D, c.layerNormEps)
  }

  /** Logits [B*T, paddedVocab] (the tied head: hidden x wte^T). Padded columns are meaningless. */
  logits(idx: tf.Tensor2D, training = false): tf.Tensor2D {
    return tiedHead(this.hidden(idx, training), this.p('wte.weight') as tf.Tensor2D)
  }

  /** Mean next-token cross-entropy of targets [B, T] given idx [B, T]. */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, training = false): tf.Scalar {
    return crossEntropy(this.logits(idx, training), tf.reshape(targets, [-1]) as tf.Tensor1D, this.config.vocabSize)
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose()
    for (const m of this.masks.values()) m.dispose()
  }

  private mask(T: number): tf.Tensor2D {
    let m = this.masks.get(T)
    if (!m) this.masks.set(T, (m = tf.keep(causalMask(T))))
    return m
  }

  private dropout(x: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return training && this.config.dropout > 0 ? (tf.dropout(x, this.config.dropout) as tf.Tensor2D) : x
  }
}

/**
 * GPT-2's initialisation: weights ~ N(0, 0.02), residual projections (c_proj) scaled by
 * 1/sqrt(2 * nLayer), biases 0, LayerNorm gains 1; padded vocabulary rows 0.
 */
export function initParams(config: ModelConfig, seed: number): Params {
  const params: Params = new Map()
  let n = 0
  for (const [name, shape] of parameterShapes(config)) {
    const s = seed * 1000 + n++
    let value: tf.Tensor
    if (/ln_(\d|f)\.weight$/.test(name)) value = tf.ones(shape)
    else if (name.endsWith('.bias')) value = tf.zeros(shape)
    else {
      const std = name.endsWith('c_proj.weight') ? 0.02 / Math.sqrt(2 * config.nLayer) : 0.02
      value = tf.randomNormal(shape, 0, std, 'float32', s)
      if (name === 'wte.weight' && shape[0] > config.vocabSize) {
        const real = tf.slice(value, [0, 0], [config.vocabSize, shape[1]])
        const padded = tf.concat([real, tf.zeros([shape[0] - config.vocabSize, shape[1]])])
        value.dispose()
        real.dispose()
        value = padded
      }
    }
    // Unnamed: tfjs variable names are unique per process, and two models may be loaded at once.
    params.set(name, tf.variable(value, true))
    value.dispose()
  }
  return params
}
