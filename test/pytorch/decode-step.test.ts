// The PyTorch model server's batched decode step (issue 18): one-token steps of several sessions
// asked in the same turn go to the server as one `step` (one forward over their caches, left-padded
// and stacked); each session's greedy tokens equal those it gets decoding alone, its logits within
// float32 rounding; a session that would overflow the context fails alone, the others go on; a
// step that fails part-way changes no cache, so the sessions' retries alone append their tokens once.
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { encodeText } from '../../src/core/data/gpt2-tokenizer'
import { ModelServer } from '../../src/core/engine/pytorch/model-server'
import { tempDir } from '../helpers'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const N_CTX = 48
const STEPS = 12
const PROMPTS = ['Call me Ishmael.', 'Some years ago, never mind how long precisely, having little', 'x', 'It is a way I have of driving off the spleen and regulating the circulation.']

const argmax = (l: Float32Array, vocab: number): number => {
  let best = 0
  for (let i = 1; i < vocab; i++) if (l[i] > l[best]) best = i
  return best
}

describeTorch('batched decode steps on the PyTorch model server', () => {
  let server: ModelServer
  let sessions = 0
  let dir: string

  beforeAll(async () => {
    dir = path.join(tempDir('gptw-torch-step-'), 'step-1')
    randomCheckpoint(dir, { nCtx: N_CTX, seed: 23 })
    server = await ModelServer.start({ checkpoint: dir, device: 'cpu:0', dtype: 'float32', purpose: 'generate', python: PYTHON, packageDir: PACKAGE_DIR, batchSize: 1, threads: 1 })
  })
  afterAll(async () => {
    await server?.close()
  })

  /** A greedy run of one prompt: its tokens and each step's logits. */
  async function greedy(prompt: number[], steps: number): Promise<{ tokens: number[]; logits: Float32Array[] }> {
    const session = `t${++sessions}`
    let logits = await server.decode(session, prompt, true)
    const out = { tokens: [] as number[], logits: [logits] }
    for (let s = 0; s < steps; s++) {
      const id = argmax(logits, server.info.vocabSize)
      out.tokens.push(id)
      logits = await server.decode(session, [id], false)
      out.logits.push(logits)
    }
    await server.closeSession(session)
    return out
  }
  const counts = (): Map<number, number> => new Map(server.stepBatches)

  it('steps several sessions in one forward: the tokens each gets alone, logits within rounding', async () => {
    const prompts = PROMPTS.map((p) => encodeText(p))
    expect(new Set(prompts.map((p) => p.length)).size).toBe(prompts.length) // caches of different lengths: padding in play
    const alone: { tokens: number[]; logits: Float32Array[] }[] = []
    for (const p of prompts) alone.push(await greedy(p, STEPS))
    expect(counts().get(1)).toBe(prompts.length * STEPS)
    expect(counts().has(prompts.length)).toBe(false)

    const together = await Promise.all(prompts.map((p) => greedy(p, STEPS)))
    // every step after the prefills ran with all four sessions in one forward
    expect(counts().get(prompts.length)).toBe(STEPS)
    together.forEach((t, i) => {
      expect(t.tokens).toEqual(alone[i].tokens)
      t.logits.forEach((l, s) => {
        let worst = 0
        for (let v = 0; v < server.info.vocabSize; v++) worst = Math.max(worst, Math.abs(l[v] - alone[i].logits[s][v]))
        expect(worst, `prompt ${i} step ${s}`).toBeLessThan(1e-4)
      })
    })
    expect(new Set(alone.map((a) => a.tokens.join())).size).toBeGreaterThan(1)
  })

  it('a session that would pass the context fails alone; the others in its step go on', async () => {
    const full = Array.from({ length: N_CTX - 1 }, (_, i) => 200 + i)
    await server.decode('full', full, true)
    await server.decode('short', [464, 3797], true)
    // the first step fits both (47 + 1 = 48 positions)
    await Promise.all([server.decode('full', [11], false), server.decode('short', [11], false)])
    const [full2, short2] = await Promise.allSettled([server.decode('full', [13], false), server.decode('short', [13], false)])
    expect(full2.status).toBe('rejected')
    expect((full2 as PromiseRejectedResult).reason.message).toMatch(/49 tokens do not fit the model's context of 48/)
    expect(short2.status).toBe('fulfilled')
    const want = await greedyLogits([464, 3797, 11, 13])
    expect((short2 as PromiseFulfilledResult<Float32Array>).value[want.id]).toBeCloseTo(want.logits[want.id], 4)
  })

  it('a step that fails part-way through its cache updates changes no cache: the retries append each token once', async () => {
    // serve.py's test-only fault: extending b's cache fails, after a's (first in the step) was
    // extended, as running out of memory in one of the step's cats would
    const faulty = await ModelServer.start({
      checkpoint: dir,
      device: 'cpu:0',
      dtype: 'float32',
      purpose: 'generate',
      python: PYTHON,
      packageDir: PACKAGE_DIR,
      batchSize: 1,
      threads: 1,
      env: { GPTW_SERVE_TEST_FAIL_STEP_AT: 'b' }
    })
    try {
      const [a, b] = [encodeText(PROMPTS[0]), encodeText(PROMPTS[1])]
      await faulty.decode('a', a, true)
      await faulty.decode('b', b, true)
      const got = await Promise.all([faulty.decode('a', [11], false), faulty.decode('b', [11], false)])
      // one step of both, refused, then each session alone
      expect(Object.fromEntries(faulty.stepBatches)).toEqual({ 2: 1, 1: 2 })
      const next = await Promise.all([faulty.decode('a', [13], false), faulty.decode('b', [13], false)])
      for (const [i, ids] of [a, b].entries()) {
        const after11 = await greedyLogits([...ids, 11])
        const after13 = await greedyLogits([...ids, 11, 13])
        expect(maxDiff(got[i], after11.logits), `session ${'ab'[i]} after 11`).toBeLessThan(1e-4)
        expect(maxDiff(next[i], after13.logits), `session ${'ab'[i]} after 13`).toBeLessThan(1e-4)
      }
    } finally {
      await faulty.close()
    }
  })

  const maxDiff = (x: Float32Array, y: Float32Array): number => {
    let worst = 0
    for (let v = 0; v < server.info.vocabSize; v++) worst = Math.max(worst, Math.abs(x[v] - y[v]))
    return worst
  }

  /** The logits after a whole sequence, read in one prefill. */
  async function greedyLogits(ids: number[]): Promise<{ logits: Float32Array; id: number }> {
    const logits = await server.decode(`p${++sessions}`, ids, true)
    return { logits, id: argmax(logits, server.info.vocabSize) }
  }
})
