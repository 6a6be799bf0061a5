// The engine adapter (GPTLanguageModel) against independent computations of the same numbers:
// PyTorch in float64, one request at a time with the harness's slicing written out in Python
// (tools/eval_reference.py; where Debian's python3-torch is installed), and always the engine's own
// whole-logits path (GPT.logits, scoreText) with the harness's arithmetic written out here.
// Tolerance: relative error 1e-4 on summed log-likelihoods (float32 engine against float64).
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { END_OF_TEXT, decodeTokens, encodeText } from '../../src/core/data/gpt2-tokenizer'
import { initBackend } from '../../src/core/engine/backend'
import { loadTraining } from '../../src/core/engine/checkpoint-tf'
import type { GPT } from '../../src/core/engine/model'
import { scoreText } from '../../src/core/engine/score'
import { GPTLanguageModel } from '../../src/core/eval/engine/gpt-model'
import { ROOT, tempDir } from '../helpers'
import { randomCheckpoint } from './random-checkpoint'

const N_CTX = 24
const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0

const LONG =
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.'
const REQUESTS = [
  { context: 'The cat sat on', continuation: ' the mat' },
  { context: '', continuation: 'Hello world, said the whale.' },
  { context: LONG, continuation: ' It is a way I have.' },
  { context: 'Question: What is 98 plus 45?\nAnswer:', continuation: ' 143' },
  { context: 'The cat sat on', continuation: ' the mat' },
  { context: 'Sentence 1: yes\nQuestion: Is it?\nAnswer:', continuation: ' no' }
].map((r) => ({ type: 'loglikelihood' as const, ...r }))

let dir: string
let model: GPT

beforeAll(async () => {
  await initBackend('wasm')
  dir = path.join(tempDir('gptw-eval-engine-'), 'ckpt')
  randomCheckpoint(dir, { nCtx: N_CTX, seed: 3 })
  model = loadTraining(dir).model
})
afterAll(() => model?.dispose())

const close = (got: number, want: number) => expect(Math.abs(got - want) / Math.max(1, Math.abs(want))).toBeLessThan(1e-4)

/** log P(cont | ctx) from the full logits [T, paddedVocab], real columns only: the harness's arithmetic, written out. */
function viaFullLogits(m: GPT, context: number[], continuation: number[]): { logprob: number; isGreedy: boolean } {
  const input = [...context, ...continuation].slice(-(N_CTX + 1)).slice(0, -1)
  return tf.tidy(() => {
    const logits = tf.slice(m.logits(tf.tensor2d([input], [1, input.length], 'int32')), [0, 0], [input.length, m.config.vocabSize])
    const lp = tf.logSoftmax(logits).arraySync() as number[][]
    let logprob = 0
    let isGreedy = true
    continuation.forEach((tok, j) => {
      const row = lp[input.length - continuation.length + j]
      logprob += row[tok]
      if (row.indexOf(Math.max(...row)) !== tok) isGreedy = false
    })
    return { logprob, isGreedy }
  })
}

const tokensOf = (r: { context: string; continuation: string }) => ({ context: r.context === '' ? [END_OF_TEXT] : encodeText(r.context), continuation: encodeText(r.continuation) })

describe('GPT language model: loglikelihood', () => {
  it('matches the whole-logits computation, with left truncation and end-of-text for an empty context', async () => {
    const lm = new GPTLanguageModel(model, { id: 'x', batchSize: 4 })
    expect(encodeText(LONG).length).toBeGreaterThan(N_CTX) // the long request must be truncated
    const got = await lm.loglikelihood(REQUESTS)
    REQUESTS.forEach((r, i) => {
      const t = tokensOf(r)
      const want = viaFullLogits(model, t.context, t.continuation)
      close(got[i].logprob, want.logprob)
      expect(got[i].isGreedy).toBe(want.isGreedy)
    })
    expect(got[4]).toEqual(got[0]) // duplicates answered alike
    // a random model prefers different continuations differently: the numbers are not constant
    expect(new Set(got.map((g) => g.logprob.toFixed(3))).size).toBeGreaterThan(3)
  })

  it('gives the same answers whatever the batch size (padding never leaks into real positions)', async () => {
    const one = await new GPTLanguageModel(model, { id: 'x', batchSize: 1 }).loglikelihood(REQUESTS)
    const many = await new GPTLanguageModel(model, { id: 'x', batchSize: 6 }).loglikelihood(REQUESTS)
    one.forEach((a, i) => {
      close(many[i].logprob, a.logprob)
      expect(many[i].isGreedy).toBe(a.isGreedy)
    })
  })

  it('agrees with scoreText on a text that fits one window (the continuation of end-of-text)', async () => {
    const text = 'A short line of text.'
    const n = encodeText(text).length
    const [ll] = await new GPTLanguageModel(model, { id: 'x', batchSize: 2 }).loglikelihood([{ type: 'loglikelihood', context: '', continuation: text }])
    const scored = await scoreText(model, text)
    expect(scored.tokens).toBe(n)
    close(ll.logprob, -scored.loss * n)
  })

  it('never scores or chooses the padded vocabulary rows', async () => {
    // Checkpoints hold only the real rows (padded on load with zeros): fill the loaded model's padded rows with noise.
    const other = loadTraining(dir).model
    const wte = other.p('wte.weight')
    const [Vp, C] = wte.shape
    const V = other.config.vocabSize
    const noisy = tf.tidy(() => tf.concat([tf.slice(wte, [0, 0], [V, C]), tf.randomNormal([Vp - V, C], 0, 100, 'float32', 3)]))
    wte.assign(noisy)
    noisy.dispose()
    try {
      // with the padded rows included, a logit of size ~100 * |h| would swamp every softmax
      const full = tf.tidy(() => tf.max(other.logits(tf.tensor2d([[1, 2, 3]], [1, 3], 'int32'))).dataSync()[0])
      expect(full).toBeGreaterThan(50)
      const a = await new GPTLanguageModel(model, { id: 'x', batchSize: 3 }).loglikelihood(REQUESTS)
      const b = await new GPTLanguageModel(other, { id: 'y', batchSize: 3 }).loglikelihood(REQUESTS)
      b.forEach((r, i) => {
        close(r.logprob, a[i].logprob)
        expect(r.isGreedy).toBe(a[i].isGreedy)
      })
      const [text] = await new GPTLanguageModel(other, { id: 'y', batchSize: 3 }).greedyUntil([{ type: 'greedy_until', context: 'The', stops: ['\u0007'], maxTokens: 6 }])
      expect(encodeText(text).every((t) => t < 50257)).toBe(true)
    } finally {
      other.dispose()
    }
  })

  it('refuses a checkpoint whose vocabulary cannot hold GPT-2 tokens', () => {
    const tiny = loadTraining(path.join(ROOT, 'test', 'goldens', 'tiny-gpt-hf')).model
    try {
      expect(() => new GPTLanguageModel(tiny, { id: 'x', batchSize: 1 })).toThrow(/vocabulary has 100 tokens; evaluation uses GPT-2's BPE of 50257/)
    } finally {
      tiny.dispose()
    }
  })
})

describe('GPT language model: rolling and generation', () => {
  it('sums the rolling windows: each token predicted once, later windows with full context', async () => {
    const ids = encodeText(LONG)
    expect(ids.length).toBeGreaterThan(2 * N_CTX)
    const [got] = await new GPTLanguageModel(model, { id: 'x', batchSize: 2 }).loglikelihoodRolling([{ type: 'loglikelihood_rolling', text: LONG }])
    // written out: token i is predicted from the (up to) N_CTX tokens before it, the first from end-of-text
    let want = 0
    for (let done = 0; done < ids.length;) {
      const end = Math.min(ids.length, done + N_CTX)
      want += viaFullLogits(model, [END_OF_TEXT, ...ids.slice(0, done)], ids.slice(done, end)).logprob
      done = end
    }
    close(got, want)
  })

  it('generates greedily and cuts the text before the first stop', async () => {
    const lm = new GPTLanguageModel(model, { id: 'x', batchSize: 2 })
    const context = 'Once upon a time'
    const [free] = await lm.greedyUntil([{ type: 'greedy_until', context, stops: ['\u0007'], maxTokens: 12 }])
    // written out: argmax over the real vocabulary, one token at a time, window sliding over the context
    const seq = encodeText(context).slice(-(N_CTX > 12 ? N_CTX - 12 : Math.floor(N_CTX / 2)))
    const out: number[] = []
    for (let i = 0; i < 12; i++) {
      const t = tf.tidy(() => {
        const w = seq.slice(-N_CTX)
        const logits = tf.slice(model.logits(tf.tensor2d([w], [1, w.length], 'int32')), [w.length - 1, 0], [1, model.config.vocabSize])
        return tf.argMax(logits, 1).dataSync()[0]
      })
      seq.push(t)
      out.push(t)
    }
    expect(free).toBe(decodeTokens(out))
    const stop = free.slice(3, 5)
    expect(stop.length).toBe(2)
    const [cut] = await lm.greedyUntil([{ type: 'greedy_until', context, stops: ['\u0007', stop], maxTokens: 12 }])
    expect(cut).toBe(free.split(stop)[0])
  })
})

describe.runIf(torchAvailable)('GPT language model against PyTorch (tools/eval_reference.py)', () => {
  it("gives PyTorch's log-likelihoods, greedy flags, rolling sums and greedy tokens", async () => {
    const lm = new GPTLanguageModel(model, { id: 'x', batchSize: 4 })
    const texts = [LONG, 'Two words.']
    const request = {
      checkpoint: dir,
      loglikelihood: REQUESTS.map(tokensOf),
      rolling: texts.map((t) => encodeText(t)),
      generate: [{ context: encodeText('Once upon a time'), steps: 12 }]
    }
    const run = spawnSync('/usr/bin/python3', [path.join(ROOT, 'tools', 'eval_reference.py')], { input: JSON.stringify(request), encoding: 'utf8', maxBuffer: 1 << 26 })
    expect(run.status, run.stderr).toBe(0)
    const want = JSON.parse(run.stdout) as { loglikelihood: { logprob: number; is_greedy: boolean }[]; rolling: number[]; generate: number[][] }
    const got = await lm.loglikelihood(REQUESTS)
    want.loglikelihood.forEach((w, i) => {
      close(got[i].logprob, w.logprob)
      expect(got[i].isGreedy).toBe(w.is_greedy)
    })
    const rolling = await lm.loglikelihoodRolling(texts.map((text) => ({ type: 'loglikelihood_rolling' as const, text })))
    want.rolling.forEach((w, i) => close(rolling[i], w))
    const [generated] = await lm.greedyUntil([{ type: 'greedy_until', context: 'Once upon a time', stops: ['\u0007'], maxTokens: 12 }])
    expect(generated).toBe(decodeTokens(want.generate[0]))
  })
})
