// GPT-2 in tfjs, to be read top to bottom as nanoGPT's model.py: the parameters (stored in a Map
// under their Hugging Face names, param-names.ts, and resolved once into typed per-layer
// structures), causal self-attention, the block, the forward, the lm head tied to the token
// embedding, the loss, and the initialisation. One block serves training, scoring and decoding;
// only the attention passed to it differs (the full causal mask, or the KV cache). Products and
// fused kernels come from `kernels()` (ops.ts), native or plain tfjs as the backend was chosen.
import * as tf from '@tensorflow/tfjs'
import { type ModelConfig, paddedVocab } from '../../shared/config/model'
import { type FrozenHead, type Kernels, type Linear, type Norm, causalMask, kernels } from './ops'
import { parameterShapes } from './param-names'

export type Params = Map<string, tf.Variable>

// ---- parameters ----

export interface BlockParams {
  ln1: Norm
  attn: { qkv: Linear; proj: Linear }
  ln2: Norm
  mlp: { fc: Linear; proj: Linear }
}

export interface GPTParams {
  /** Token embedding [paddedVocab, C], also the tied lm head. */
  wte: tf.Tensor2D
  /** Position embedding [nCtx, C]. */
  wpe: tf.Tensor2D
  blocks: BlockParams[]
  lnF: Norm
}

/**
 * The Map's parameters as typed structures. Training assigns new values to the same variables,
 * so this is done once per model.
 */
export function resolveParams(params: Params, c: ModelConfig): GPTParams {
  const get = <T extends tf.Tensor>(name: string): T => {
    const v = params.get(name)
    if (!v) throw new Error(`Model has no parameter ${name}`)
    return v as unknown as T
  }
  const norm = (prefix: string): Norm => ({ gain: get(`${prefix}.weight`), bias: get(`${prefix}.bias`) })
  const linear = (prefix: string): Linear => ({ weight: get(`${prefix}.weight`), bias: get<tf.Tensor1D>(`${prefix}.bias`) })
  return {
    wte: get('wte.weight'),
    wpe: get('wpe.weight'),
    blocks: Array.from({ length: c.nLayer }, (_, i) => ({
      ln1: norm(`h.${i}.ln_1`),
      attn: { qkv: linear(`h.${i}.attn.c_attn`), proj: linear(`h.${i}.attn.c_proj`) },
      ln2: norm(`h.${i}.ln_2`),
      mlp: { fc: linear(`h.${i}.mlp.c_fc`), proj: linear(`h.${i}.mlp.c_proj`) }
    })),
    lnF: norm('ln_f')
  }
}

// ---- causal self-attention ----

/** A block's attention: the fused qkv [B*T, 3C] of layer `layer` in, the heads' outputs [B*T, C] out. */
export type Attention = (qkv: tf.Tensor2D, layer: number) => tf.Tensor2D

/**
 * Multi-head attention for B sequences of T new positions on a fused qkv [B*T, 3C] (c_attn's
 * output, q | k | v): split the heads, let `withPast` put earlier positions' keys and values in
 * front (decoding), scale, mask, softmax, mix the values, and merge the heads back into
 * [B*T, C], ready for c_proj.
 */
export function causalSelfAttention(
  qkv: tf.Tensor2D,
  batch: number,
  seq: number,
  heads: number,
  mask: tf.Tensor2D | null,
  withPast?: (k: tf.Tensor3D, v: tf.Tensor3D) => [tf.Tensor3D, tf.Tensor3D],
  k: Kernels = kernels()
): tf.Tensor2D {
  const C = qkv.shape[1] / 3
  const hd = C / heads
  // [B, T, 3, H, hd] -> [3, B, H, T, hd]
  const split = tf.transpose(tf.reshape(qkv, [batch, seq, 3, heads, hd]), [2, 0, 3, 1, 4])
  const [q, key, value] = tf.unstack(split).map((t) => tf.reshape(t, [batch * heads, seq, hd]) as tf.Tensor3D)
  const [keys, values] = withPast ? withPast(key, value) : [key, value]
  const scores = tf.mul(k.attentionScores(q, keys), 1 / Math.sqrt(hd)) // [B*H, T, S]
  const att = tf.softmax(mask ? tf.add(scores, mask) : scores)
  const y = tf.matMul(att, values) // [B*H, T, hd]
  return tf.reshape(tf.transpose(tf.reshape(y, [batch, heads, seq, hd]), [0, 2, 1, 3]), [batch * seq, C])
}

// ---- the block ----

/** A pre-LayerNorm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)), the MLP's activation GELU. */
export function block(k: Kernels, x: tf.Tensor2D, p: BlockParams, attend: (qkv: tf.Tensor2D) => tf.Tensor2D, eps: number, dropout: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
  const qkv = k.linear(k.layerNorm(x, p.ln1, eps), p.attn.qkv)
  x = tf.add(x, dropout(k.linear(attend(qkv), p.attn.proj)))
  const h = k.gelu(k.linear(k.layerNorm(x, p.ln2, eps), p.mlp.fc))
  return tf.add(x, dropout(k.linear(h, p.mlp.proj)))
}

// ---- the model ----

export interface ForwardOptions {
  /** Dropout on (config.dropout after the embeddings and each residual branch). */
  training?: boolean
  /** Positions already seen (decoding with a KV cache): the first token is at position `past`. */
  past?: number
  /** The blocks' attention; by default the full causal mask over the T tokens. */
  attention?: Attention
  /** idx's token embeddings [B*T, C], already looked up in wte (training keeps the lookup off the tape: lookup-gradient.ts). */
  tokens?: tf.Tensor2D
}

export interface HeadOptions {
  /** Only these rows of h (decoding: the last position; scoring: the scored ones). */
  rows?: number[]
  /** Only the real vocabulary's columns (else the padded ones too, which mean nothing). */
  realVocab?: boolean
  /** Inference on weights that stay as they are: no gradient, wte laid out once for the kernels' fastest product. */
  frozen?: boolean
}

export class GPT implements GPTParams {
  readonly params: Params
  readonly vocabPadded: number
  readonly wte: tf.Tensor2D
  readonly wpe: tf.Tensor2D
  readonly blocks: BlockParams[]
  readonly lnF: Norm
  private readonly masks = new Map<number, tf.Tensor2D>()
  private frozen: { backend: string; kernels: Kernels; source: tf.DataId; head: FrozenHead } | null = null

  constructor(
    readonly config: ModelConfig,
    params?: Params
  ) {
    this.vocabPadded = paddedVocab(config.vocabSize)
    this.params = params ?? initParams(config, 1337)
    const p = resolveParams(this.params, config)
    this.wte = p.wte
    this.wpe = p.wpe
    this.blocks = p.blocks
    this.lnF = p.lnF
  }

  /** A parameter by its Hugging Face name. */
  p(name: string): tf.Variable {
    const v = this.params.get(name)
    if (!v) throw new Error(`Model has no parameter ${name}`)
    return v
  }

  /** Final hidden states [B*T, C] (after ln_f) for token ids [B, T]. */
  hidden(idx: tf.Tensor2D, options: ForwardOptions = {}): tf.Tensor2D {
    return kernels().layerNorm(this.trunk(idx, options), this.lnF, this.config.layerNormEps)
  }

  /** The last block's output [B*T, C] (before ln_f) for token ids [B, T]. */
  trunk(idx: tf.Tensor2D, { training = false, past = 0, attention, tokens }: ForwardOptions = {}): tf.Tensor2D {
    const [B, T] = idx.shape
    const c = this.config
    if (past + T > c.nCtx) throw new Error(`Sequence of ${past + T} tokens is longer than the model's context of ${c.nCtx}.`)
    const k = kernels()
    const dropout = this.dropout(training)
    const attend = attention ?? this.causalAttention(B, T)
    let x = tokens ? this.addPositions(tokens, B, past, dropout) : this.embed(idx, past, dropout)
    for (const [i, p] of this.blocks.entries()) x = block(k, x, p, (qkv) => attend(qkv, i), c.layerNormEps, dropout)
    return x
  }

  /** The blocks' input [B*T, C]: token plus position embeddings for ids [B, T] from position `past`, dropout applied. */
  embed(idx: tf.Tensor2D, past: number, dropout: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    return this.addPositions(tf.gather(this.wte, tf.reshape(idx, [-1])) as tf.Tensor2D, idx.shape[0], past, dropout)
  }

  /** embed's second half: the looked-up token embeddings tok [B*T, C] of B sequences plus the position embeddings from `past`, dropout applied. */
  addPositions(tok: tf.Tensor2D, batch: number, past: number, dropout: (x: tf.Tensor2D) => tf.Tensor2D): tf.Tensor2D {
    const C = this.config.nEmbd
    const T = tok.shape[0] / batch
    // The whole table when the sequences fill the context (training): no slice, whose gradient is a pad of the whole table.
    const pos = past === 0 && T === this.wpe.shape[0] ? this.wpe : tf.slice(this.wpe, [past, 0], [T, C])
    return dropout(tf.reshape(tf.add(tf.reshape(tok, [batch, T, C]), pos), [batch * T, C]))
  }

  /**
   * Dropout at config.dropout when training (else the identity). With a seed, the k-th call
   * draws from seed + k, so a forward run again with the same seed drops the same elements
   * (activation checkpointing recomputes a block that way).
   */
  dropout(training: boolean, seed?: number): (x: tf.Tensor2D) => tf.Tensor2D {
    const rate = this.config.dropout
    if (!training || rate <= 0) return (x) => x
    let calls = 0
    return (x) => tf.dropout(x, rate, undefined, seed === undefined ? undefined : seed + calls++) as tf.Tensor2D
  }

  /**
   * The loss head: ln_f, the tied lm head and the mean cross-entropy of targets [B, T] on the last
   * block's output x [B*T, C]. `forGradient`: its gradient is taken next (training), so a kernel
   * set that can forms it with the loss, the logits never whole (ops.ts tiedHeadLoss).
   */
  headLoss(x: tf.Tensor2D, targets: tf.Tensor2D, forGradient = false): tf.Scalar {
    const k = kernels()
    const h = k.layerNorm(x, this.lnF, this.config.layerNormEps)
    const ids = tf.reshape(targets, [-1]) as tf.Tensor1D
    if (forGradient && k.tiedHeadLoss) return k.tiedHeadLoss(h, this.wte, ids, this.config.vocabSize)
    return k.crossEntropy(this.lmHead(h), ids, this.config.vocabSize)
  }

  /** Training and scoring: each position of each sequence attends to itself and the positions before it. */
  causalAttention(B: number, T: number): Attention {
    const k = kernels()
    const H = this.config.nHead
    if (k.causalAttention) return (qkv) => k.causalAttention!(qkv, B, T, H)
    const mask = this.mask(T)
    return (qkv) => causalSelfAttention(qkv, B, T, H, mask, undefined, k)
  }

  /** The lm head, tied to the token embedding: logits = h wte^T, [rows, paddedVocab] (or the real vocabulary). */
  lmHead(h: tf.Tensor2D, { rows, realVocab = false, frozen = false }: HeadOptions = {}): tf.Tensor2D {
    const k = kernels()
    const x = rows ? (tf.gather(h, tf.tensor1d(rows, 'int32')) as tf.Tensor2D) : h
    const logits = frozen ? this.frozenHead(k).logits(x) : k.tiedHead(x, this.wte)
    const V = this.config.vocabSize
    return realVocab && logits.shape[1] > V ? tf.slice(logits, [0, 0], [x.shape[0], V]) : logits
  }

  /** Logits [B*T, paddedVocab] for token ids [B, T] (their embeddings `tokens` when already looked up). Padded columns are meaningless. */
  logits(idx: tf.Tensor2D, training = false, tokens?: tf.Tensor2D): tf.Tensor2D {
    return this.lmHead(this.hidden(idx, { training, tokens }))
  }

  /**
   * Mean next-token cross-entropy of targets [B, T] given idx [B, T] (and its looked-up embeddings
   * `tokens`, if given), over the real vocabulary. `training`: dropout on, and the gradient is
   * taken next (headLoss's forGradient).
   */
  loss(idx: tf.Tensor2D, targets: tf.Tensor2D, training = false, tokens?: tf.Tensor2D): tf.Scalar {
    return this.headLoss(this.trunk(idx, { training, tokens }), targets, training)
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose()
    for (const m of this.masks.values()) m.dispose()
    this.frozen?.head.dispose()
    this.frozen = null
  }

  private mask(T: number): tf.Tensor2D {
    let m = this.masks.get(T)
    if (!m) this.masks.set(T, (m = tf.keep(causalMask(T))))
    return m
  }

  /** The frozen head for the current weights and kernels, made again when either changed (the native AdamW updates wte in place, but the native frozen head copies nothing). */
  private frozenHead(k: Kernels): FrozenHead {
    const backend = tf.getBackend()
    const f = this.frozen
    if (f && f.kernels === k && f.backend === backend && f.source === this.wte.dataId) return f.head
    f?.head.dispose()
    this.frozen = { backend, kernels: k, source: this.wte.dataId, head: k.frozenHead(this.wte) }
    return this.frozen.head
  }
}

// ---- initialisation ----

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
