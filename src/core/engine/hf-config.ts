// config.json of a checkpoint in Hugging Face's GPT2Config keys, so our checkpoints load in
// transformers (GPT2LMHeadModel.from_pretrained) and real GPT-2 configs load here.
// The embedding is stored with exactly the tokenizer's rows (vocab_size = vocabSize), so
// transformers never sees, scores or samples a padded id. Checkpoints from before that stored the
// padded rows (vocab_size = the padded count) with the real vocabulary as `gptw_vocab_size`;
// they still load.
import { z } from 'zod'
import { GPT2_VOCAB, ModelConfig, paddedVocab } from '../../shared/config/model'

/** The keys we read; anything else in a config.json (summary_*, task_specific_params, ...) is ignored. */
const GPT2ConfigFile = z.looseObject({
  model_type: z.string().optional(),
  vocab_size: z.number().int().positive(),
  n_positions: z.number().int().positive().optional(),
  n_ctx: z.number().int().positive().optional(),
  n_embd: z.number().int().positive(),
  n_layer: z.number().int().positive(),
  n_head: z.number().int().positive(),
  n_inner: z.number().int().positive().nullable().optional(),
  activation_function: z.string().optional(),
  resid_pdrop: z.number().min(0).max(1).optional(),
  layer_norm_epsilon: z.number().positive().optional(),
  scale_attn_weights: z.boolean().optional(),
  scale_attn_by_inverse_layer_idx: z.boolean().optional(),
  tie_word_embeddings: z.boolean().optional(),
  gptw_vocab_size: z.number().int().positive().optional()
})

/** Activations that are GPT-2's tanh approximation of GELU under another name. */
const TANH_GELU = ['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast']

export function toGPT2Config(c: ModelConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nCtx,
    n_ctx: c.nCtx,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    activation_function: 'gelu_new',
    resid_pdrop: c.dropout,
    embd_pdrop: c.dropout,
    attn_pdrop: c.dropout,
    layer_norm_epsilon: c.layerNormEps,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    tie_word_embeddings: true,
    bos_token_id: GPT2_VOCAB - 1,
    eos_token_id: GPT2_VOCAB - 1,
    torch_dtype: 'float32'
  }
}

/** The model shape of a GPT2Config JSON; `file` names it in errors. Refuses variants this engine does not compute. */
export function fromGPT2Config(json: unknown, file: string): ModelConfig {
  const parsed = GPT2ConfigFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(`${file}: not a GPT-2 config: ${issue.path.join('.') || 'top level'}: ${issue.message}.`)
  }
  const g = parsed.data
  const refuse = (what: string): never => {
    throw new Error(`${file}: ${what}; this engine runs the standard GPT-2 architecture only.`)
  }
  if (g.model_type !== undefined && g.model_type !== 'gpt2') refuse(`model_type is "${g.model_type}", not "gpt2"`)
  if (g.n_inner != null && g.n_inner !== 4 * g.n_embd) refuse(`n_inner is ${g.n_inner}, not 4 x n_embd (${4 * g.n_embd})`)
  if (g.activation_function !== undefined && !TANH_GELU.includes(g.activation_function)) refuse(`activation_function is "${g.activation_function}", not tanh GELU (gelu_new)`)
  if (g.scale_attn_weights === false) refuse('scale_attn_weights is false')
  if (g.scale_attn_by_inverse_layer_idx === true) refuse('scale_attn_by_inverse_layer_idx is true')
  if (g.tie_word_embeddings === false) refuse('tie_word_embeddings is false (the lm head must be the token embedding)')
  const nCtx = g.n_positions ?? g.n_ctx
  if (nCtx === undefined) throw new Error(`${file}: not a GPT-2 config: it has neither n_positions nor n_ctx.`)
  const vocabSize = g.gptw_vocab_size ?? g.vocab_size
  if (g.vocab_size !== vocabSize && g.vocab_size !== paddedVocab(vocabSize)) {
    throw new Error(`${file}: vocab_size ${g.vocab_size} is neither gptw_vocab_size ${vocabSize} nor its padded size ${paddedVocab(vocabSize)}.`)
  }
  const model = ModelConfig.safeParse({
    nLayer: g.n_layer,
    nHead: g.n_head,
    nEmbd: g.n_embd,
    nCtx,
    vocabSize,
    dropout: Math.min(g.resid_pdrop ?? 0, 0.9),
    layerNormEps: g.layer_norm_epsilon ?? 1e-5
  })
  if (!model.success) {
    const issue = model.error.issues[0]
    throw new Error(`${file}: impossible model shape: ${issue.path.join('.')}: ${issue.message}.`)
  }
  return model.data
}
