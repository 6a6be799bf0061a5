// The token windows of loglikelihood_rolling and the left-truncated loglikelihood input, checked
// against the worked example in the harness's LM.loglikelihood_rolling docstring (lm_eval/base.py).
import { describe, expect, it } from 'vitest'
import { loglikelihoodInput, rollingWindows } from '../../src/core/eval/rolling'

const EOT = 50256

describe('rolling windows', () => {
  it('matches the docstring: tokens 0..9, prefix EOT, max context 4', () => {
    // INPUT EOT 0 1 2 -> PRED 0 1 2 3; INPUT 3 4 5 6 -> PRED 4 5 6 7; INPUT 5 6 7 8 -> PRED 8 9
    expect(rollingWindows([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], EOT, 4)).toEqual([
      { context: [EOT], continuation: [0, 1, 2, 3] },
      { context: [3], continuation: [4, 5, 6, 7] },
      { context: [5, 6, 7], continuation: [8, 9] }
    ])
  })
  it('predicts every token exactly once, with full context for later windows', () => {
    const tokens = Array.from({ length: 23 }, (_, i) => 100 + i)
    const w = rollingWindows(tokens, EOT, 5)
    expect(w.flatMap((x) => x.continuation)).toEqual(tokens)
    for (const x of w) expect(x.context.length + x.continuation.length - 1).toBeLessThanOrEqual(5)
    expect(rollingWindows([], EOT, 5)).toEqual([])
    expect(rollingWindows([7], EOT, 5)).toEqual([{ context: [EOT], continuation: [7] }])
  })
  it('truncates loglikelihood inputs from the left', () => {
    expect(loglikelihoodInput([1, 2, 3, 4, 5], [6, 7], 4)).toEqual({ input: [3, 4, 5, 6], scoreFrom: 2 })
    expect(loglikelihoodInput([1], [2, 3], 8)).toEqual({ input: [1, 2], scoreFrom: 0 })
    expect(() => loglikelihoodInput([1], [], 8)).toThrow(/non-empty continuation/)
  })
})
