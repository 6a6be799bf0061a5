// The Loaded models list's weights figure (issue 18): the bytes the engine counted in the dtype it
// loaded the weights in, so GPT-2 small in bfloat16 on a GPU reads half its float32 size; a worker
// that sent no count (before the count existed) is sized from the parameters at its dtype's width.
import { describe, expect, it } from 'vitest'
import { parameterCount } from '../../src/shared/config/model'
import { type LoadedModelInfo, weightsLabel } from '../../src/shared/generate'

const gpt2 = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257 }
const info = (o: Partial<LoadedModelInfo>): LoadedModelInfo => ({ ...gpt2, parameters: parameterCount(gpt2), backend: 'x', ...o })

describe('weightsLabel', () => {
  it('says the counted bytes and the dtype: bfloat16 half of float32', () => {
    expect(parameterCount(gpt2)).toBe(124_475_904)
    expect(weightsLabel(info({ engine: 'pytorch', dtype: 'bfloat16', weightBytes: 124_475_904 * 2 }))).toBe('237 MiB, bfloat16')
    expect(weightsLabel(info({ engine: 'embedded', dtype: 'float32', weightBytes: 124_475_904 * 4 }))).toBe('475 MiB, float32')
    // a small model keeps one decimal
    expect(weightsLabel(info({ dtype: 'float32', weightBytes: 3 * 2 ** 20 + 2 ** 19 }))).toBe('3.5 MiB, float32')
  })

  it('without a count, sizes the parameters at the dtype width (float32 when none is named)', () => {
    expect(weightsLabel(info({ dtype: 'bfloat16' }))).toBe('237 MiB, bfloat16')
    expect(weightsLabel(info({}))).toBe('475 MiB, float32')
  })
})
