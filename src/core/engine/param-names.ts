// The model's parameters by their Hugging Face GPT-2 names (without the `transformer.` prefix) and
// shapes. Linear weights use Conv1D layout [in, out], so `x @ W` needs no transpose and
// checkpoints load in Hugging Face as they are. wte is [paddedVocab, nEmbd] and doubles as the
// tied lm head.
import { type ModelConfig, paddedVocab } from '../../shared/config/model'

export type ParamShapes = Map<string, number[]>

export function parameterShapes(c: ModelConfig): ParamShapes {
  const C = c.nEmbd
  const shapes: ParamShapes = new Map()
  shapes.set('wte.weight', [paddedVocab(c.vocabSize), C])
  shapes.set('wpe.weight', [c.nCtx, C])
  for (let i = 0; i < c.nLayer; i++) {
    const p = `h.${i}.`
    shapes.set(p + 'ln_1.weight', [C])
    shapes.set(p + 'ln_1.bias', [C])
    shapes.set(p + 'attn.c_attn.weight', [C, 3 * C])
    shapes.set(p + 'attn.c_attn.bias', [3 * C])
    shapes.set(p + 'attn.c_proj.weight', [C, C])
    shapes.set(p + 'attn.c_proj.bias', [C])
    shapes.set(p + 'ln_2.weight', [C])
    shapes.set(p + 'ln_2.bias', [C])
    shapes.set(p + 'mlp.c_fc.weight', [C, 4 * C])
    shapes.set(p + 'mlp.c_fc.bias', [4 * C])
    shapes.set(p + 'mlp.c_proj.weight', [4 * C, C])
    shapes.set(p + 'mlp.c_proj.bias', [C])
  }
  shapes.set('ln_f.weight', [C])
  shapes.set('ln_f.bias', [C])
  return shapes
}

/** Weight decay applies to the 2-D tensors (matrices and embeddings, as nanoGPT), not to biases or LayerNorm gains. */
export function decays(name: string): boolean {
  return name.endsWith('.weight') && !/\.ln_\d\.|^ln_f\./.test(name)
}
