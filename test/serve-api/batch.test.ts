// The batched decoding core: a sequence decoded among 15 others (joining and leaving at different
// steps) gives the tokens and log-probabilities it gives alone with its seed, greedy and sampled; a
// lone sequence gives what the Generator gives over full recompute; generation ends at the context and at a stop
// sequence; a cancelled sequence frees its slot; the queue is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelConfig } from '../../src/shared/config/model'
import { SamplingParams } from '../../src/shared/generate'
import { initBackend } from '../../src/core/engine/backend'
import { GPT, initParams } from '../../src/core/engine/model'
import { type BatchSampling, BatchGenerator, QueueFullError, type SequenceRequest, type SequenceResult } from '../../src/core/generate/batch-generator'
import { Generator } from '../../src/core/generate/generator'

const CONFIG: ModelConfig = { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 48, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }
const GREEDY: BatchSampling = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, seed: 0 }

let model: GPT

/** Request i of a varied set: prompt lengths 1..8 (two of each, so some sequences attend as a group), greedy or sampled with filters and penalties, its own seed. */
function request(i: number): SequenceRequest {
  const ids = Array.from({ length: 1 + ((i * 5) % 8) }, (_, j) => (i * 7919 + j * 104729) % CONFIG.vocabSize)
  const sampled = i % 2 === 1
  const sampling: BatchSampling = sampled
    ? {
        temperature: 0.8 + (i % 3) * 0.2,
        topP: i % 4 === 1 ? 0.9 : 1,
        topK: i % 3 === 0 ? 50 : 0,
        repetitionPenalty: 1,
        presencePenalty: i % 5 === 1 ? 0.5 : 0,
        frequencyPenalty: i % 5 === 3 ? 0.3 : 0,
        seed: 1000 + i
      }
    : { ...GREEDY, seed: 1000 + i }
  return { ids, maxTokens: 6 + (i % 7) * 3, sampling, stop: [], stopAtEndOfText: false, logprobs: 2, promptLogprobs: i % 4 === 0 }
}

async function alone(req: SequenceRequest): Promise<SequenceResult> {
  const g = new BatchGenerator(model, { maxBatch: 1 })
  try {
    return await g.submit(req).result
  } finally {
    await g.close()
  }
}

function expectSame(batched: SequenceResult, single: SequenceResult, what: string): void {
  expect(batched.ids, what).toEqual(single.ids)
  expect(batched.text, what).toBe(single.text)
  expect(batched.finishReason, what).toBe(single.finishReason)
  expect(batched.tokens.map((t) => t.top.map((a) => a.id))).toEqual(single.tokens.map((t) => t.top.map((a) => a.id)))
  for (const [j, t] of batched.tokens.entries()) expect(Math.abs(t.logprob - single.tokens[j].logprob), what).toBeLessThan(1e-5)
  expect(batched.promptLogprobs?.length).toBe(single.promptLogprobs?.length)
}

beforeAll(async () => {
  await initBackend('wasm')
  model = new GPT(CONFIG, initParams(CONFIG, 7))
})
afterAll(() => model.dispose())

describe('batched decoding', () => {
  it.each(['wasm', 'native'] as const)('16 sequences decoded together give the tokens each gives alone with its seed (greedy and sampled), on %s', async (backend) => {
    await initBackend(backend)
    const reqs = Array.from({ length: 16 }, (_, i) => request(i))
    const singles: SequenceResult[] = []
    for (const r of reqs) singles.push(await alone(r))
    // The sampled ones differ from greedy and from each other: the test would see a mixed-up RNG.
    expect(new Set(singles.map((s) => s.ids.join(','))).size).toBe(16)

    const g = new BatchGenerator(model, { maxBatch: 16 })
    const batched = await Promise.all(reqs.map((r) => g.submit(r).result))
    // Lengths differ, so sequences left the batch at different steps; the mean batch was well above 1.
    expect(g.stats.stepRows / g.stats.steps).toBeGreaterThan(4)
    // Prompts of equal length were prefilled together: fewer prefills than sequences.
    expect(g.stats.prefills).toBeLessThan(16)
    await g.close()
    for (const [i, b] of batched.entries()) expectSame(b, singles[i], `sequence ${i}`)
    for (const [i, b] of batched.entries()) expect(b.ids.length, `sequence ${i}`).toBe(reqs[i].maxTokens)
    await initBackend('wasm')
  })

  it('sequences joining a running batch at different steps, with fewer slots than sequences, still match', async () => {
    const reqs = Array.from({ length: 12 }, (_, i) => request(i + 3))
    const singles: SequenceResult[] = []
    for (const r of reqs) singles.push(await alone(r))
    const g = new BatchGenerator(model, { maxBatch: 5, maxQueue: 20 })
    const results: Promise<SequenceResult>[] = []
    for (const [i, r] of reqs.entries()) {
      results.push(g.submit(r).result)
      // Let a few steps run before the next one arrives, so it joins mid-way.
      if (i % 3 === 2) for (let k = 0; k < 3; k++) await new Promise((resolve) => setImmediate(resolve))
    }
    const batched = await Promise.all(results)
    await g.close()
    for (const [i, b] of batched.entries()) expectSame(b, singles[i], `sequence ${i}`)
  })

  it('alone, it gives what the Generator gives over full recompute (no KV cache) for the same seed and filters', async () => {
    const prompt = [50256, 464, 1893, 286]
    for (const sp of [
      { temperature: 0, topK: 0, topP: 0, seed: 1 },
      { temperature: 1, topK: 40, topP: 0.95, seed: 5 },
      { temperature: 0.7, topK: 0, topP: 1, seed: 9 }
    ]) {
      const gen = new Generator(model, { decoder: 'recompute', alternatives: 0 })
      const ref = await gen.generate({ ids: prompt }, SamplingParams.parse({ ...sp, maxNewTokens: 20, stopAtEndOfText: false }))
      gen.dispose()
      const mine = await alone({ ids: prompt, maxTokens: 20, sampling: { ...GREEDY, ...sp }, stop: [], stopAtEndOfText: false, logprobs: null, promptLogprobs: false })
      expect(mine.ids, JSON.stringify(sp)).toEqual(ref.ids)
    }
  })

  it('stops at the context and at a stop sequence (the text cut before it)', async () => {
    const long = await alone({ ids: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], maxTokens: 1000, sampling: GREEDY, stop: [], stopAtEndOfText: false, logprobs: null, promptLogprobs: false })
    expect(long.finishReason).toBe('length')
    expect(long.ids.length).toBe(CONFIG.nCtx - 10 + 1)
    const free = await alone({ ids: [11], maxTokens: 12, sampling: { ...GREEDY, temperature: 1, seed: 3 }, stop: [], stopAtEndOfText: false, logprobs: null, promptLogprobs: false })
    const stop = free.text.slice(3, 5)
    const cut = await alone({ ids: [11], maxTokens: 12, sampling: { ...GREEDY, temperature: 1, seed: 3 }, stop: [stop], stopAtEndOfText: false, logprobs: null, promptLogprobs: false })
    expect(cut.finishReason).toBe('stop')
    expect(cut.text).toBe(free.text.slice(0, free.text.indexOf(stop)))
  })

  it('a cancelled sequence frees its slot for a waiting one; the queue is bounded', async () => {
    const g = new BatchGenerator(model, { maxBatch: 1, maxQueue: 1 })
    const endless = { ids: [5], maxTokens: 40, sampling: GREEDY, stop: [], stopAtEndOfText: false, logprobs: null, promptLogprobs: false }
    const first = g.submit(endless)
    const second = g.submit({ ...endless, maxTokens: 3 })
    expect(() => g.submit(endless)).toThrow(QueueFullError)
    expect(g.canTake(1)).toBe(false)
    first.cancel()
    const [a, b] = await Promise.all([first.result, second.result])
    expect(a.finishReason).toBe('cancelled')
    expect(a.ids.length).toBeLessThan(40)
    expect(b).toMatchObject({ finishReason: 'length' })
    expect(b.ids.length).toBe(3)
    expect(g.load).toEqual({ active: 0, waiting: 0 })
    await g.close()
  })
})
