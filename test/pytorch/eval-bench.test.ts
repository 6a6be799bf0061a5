// The bench's eval-pytorch section (evalEnginesBench, issue 18): the bench model saved as one
// checkpoint, scored through the embedded engine's eval adapter and PyTorch model servers (1 and 2
// processes, CPU float32), every engine timed on every round, the answers alike. A few requests
// and one round: this checks the wiring and the agreement, it is not a speed measurement (that is
// `npm run bench -- --only eval-pytorch`).
import { expect, it } from 'vitest'
import { evalEnginesBench } from '../../src/core/eval/bench-engines'
import { torchDecodeBench } from '../../src/core/engine/pytorch/decode-bench'
import { RESOURCES_DIR, expectRateOf } from '../helpers'
import { PYTHON, describeTorch } from './helpers'

describeTorch('the eval-pytorch bench section', () => {
  it('times both engines on the same requests and finds their log-likelihoods within 1e-4', async () => {
    const r = await evalEnginesBench(RESOURCES_DIR, { python: PYTHON, requests: 16, rounds: 2, backend: 'wasm' })
    expect(r).toMatchObject({ preset: 'bench', requests: 16, batch_size: 8, n_ctx: 128, rounds: 2, greedy_flags_equal: true })
    expect(r.embedded).toMatchObject({ engine: 'embedded', processes: 1, detail: expect.stringMatching(/wasm/) })
    expect(r.pytorch_1).toMatchObject({ engine: 'pytorch', processes: 1, detail: expect.stringMatching(/^cpu, float32; torch \d/) })
    expect(r.pytorch_2).toMatchObject({ engine: 'pytorch', processes: 2, detail: expect.stringMatching(/^2 x cpu, float32; torch \d/) })
    for (const f of [r.embedded, r.pytorch_1, r.pytorch_2]) {
      expect(f.passes_s).toHaveLength(2)
      expectRateOf(f.loglikelihood_requests_per_s, 16, f.seconds)
    }
    expect(r.ratio_pytorch_2_vs_1).toBeCloseTo(r.pytorch_2.loglikelihood_requests_per_s / r.pytorch_1.loglikelihood_requests_per_s, 2)
    expect(r.max_rel_logprob_diff).toBeLessThanOrEqual(1e-4)
  })

  it('generation-pytorch: sequences decoded at once take one forward per step and the tokens they get one at a time', async () => {
    const r = await torchDecodeBench(RESOURCES_DIR, { python: PYTHON, sequences: 3, newTokens: 5, promptTokens: 4, rounds: 1, backend: 'wasm' })
    expect(r).toMatchObject({ preset: 'bench', sequences: 3, new_tokens: 5, rounds: 1 })
    expect(r.runs.map((x) => x.threads)).toContain(1)
    for (const run of r.runs) {
      expect(run.greedy_equal).toBe(true)
      // together: 4 steps of 3 sequences each; one at a time: 3 x 4 single steps
      expect(run.step_batches).toEqual({ '1': 12, '3': 4 })
      expectRateOf(run.together_tokens_per_s, 15, run.together_passes_s[0])
    }
  })
})
