// The GPT-2 model shape. Names follow nanoGPT; checkpoint I/O maps them to GPT2Config keys.
import { z } from 'zod'

export const GPT2_VOCAB = 50257

export const ModelConfig = z
  .strictObject({
    nLayer: z.number().int().min(1).max(256),
    nHead: z.number().int().min(1).max(256),
    nEmbd: z.number().int().min(8).max(32768),
    /** Context length (block size, n_positions). */
    nCtx: z.number().int().min(2).max(65536),
    /** The tokenizer's vocabulary; the embedding is padded up to a multiple of 64 for speed. */
    vocabSize: z
      .number()
      .int()
      .min(2)
      .max(1 << 20)
      .default(GPT2_VOCAB),
    dropout: z.number().min(0).max(0.9).default(0),
    layerNormEps: z.number().positive().max(0.1).default(1e-5)
  })
  .refine((c) => c.nEmbd % c.nHead === 0, { message: 'nEmbd must be divisible by nHead', path: ['nEmbd'] })
export type ModelConfig = z.infer<typeof ModelConfig>

/** The embedding / lm-head rows: vocabSize rounded up to a multiple of 64. Rows past vocabSize are never sampled or scored. */
export function paddedVocab(vocabSize: number): number {
  return Math.ceil(vocabSize / 64) * 64
}

/** Parameter count with the tied lm head counted once (padded rows included). */
export function parameterCount(c: Pick<ModelConfig, 'nLayer' | 'nEmbd' | 'nCtx' | 'vocabSize'>): number {
  const C = c.nEmbd
  const perLayer = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C)
  return paddedVocab(c.vocabSize) * C + c.nCtx * C + c.nLayer * perLayer + 2 * C
}
