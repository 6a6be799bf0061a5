// The KV cache against full recompute: the logits the batched decoder (BatchDecoder, the one
// generation core's) gives at every step equal the GPT's own full forward, and greedy generation
// picks the same tokens both ways, on the Hugging Face-style fixture (past its 16-token window,
// where the window moves) and on a checkpoint the real trainer wrote.
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { Workbench } from '../../src/main/services/workbench'
import { initBackend } from '../../src/core/engine/backend'
import type { GPT } from '../../src/core/engine/model'
import { BatchDecoder } from '../../src/core/generate/batch-decoder'
import { Generator } from '../../src/core/generate/generator'
import { loadForGeneration } from '../../src/core/generate/load'
import { RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir } from '../helpers'

const TINY_HF = path.join(ROOT, 'test', 'goldens', 'tiny-gpt-hf')
const params = (over: Partial<SamplingParams> = {}): SamplingParams => SamplingParams.parse({ stopAtEndOfText: false, ...over })

function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>, n: number): number {
  let diff = 0
  let scale = 0
  for (let i = 0; i < n; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]))
    scale = Math.max(scale, Math.abs(b[i]))
  }
  return diff / scale
}

async function bothWays(model: GPT, prompt: { ids: number[] } | { text: string }, p: SamplingParams) {
  const kv = new Generator(model, { decoder: 'kv-cache' })
  const full = new Generator(model, { decoder: 'recompute' })
  try {
    return { kv: await kv.generate(prompt, p), full: await full.generate(prompt, p) }
  } finally {
    kv.dispose()
    full.dispose()
  }
}

beforeAll(async () => {
  await initBackend('wasm')
})

describe('KV cache on the Hugging Face fixture', () => {
  let model: GPT
  beforeAll(() => {
    model = loadForGeneration(TINY_HF)
  })
  afterAll(() => model.dispose())

  it('gives the logits of the full forward at every position, prefill and one token at a time', async () => {
    const ids = [5, 17, 42, 3, 99, 0, 64, 12, 7, 31, 88, 2, 45, 9, 70, 23]
    const V = model.config.vocabSize
    const full = tf.tidy(() => model.logits(tf.tensor2d(ids, [1, ids.length], 'int32')))
    const rows = (await full.data()) as Float32Array
    const Vp = full.shape[1]
    full.dispose()
    const dec = new BatchDecoder(model)
    // Prefill the first 5 tokens at once, then feed the rest one by one.
    const { cache, rows: first } = await dec.prefill(ids.slice(0, 5))
    const got: Float32Array[] = [first[0]]
    for (let t = 5; t < ids.length; t++) got.push((await dec.step([cache], [ids[t]]))[0])
    expect(cache.length).toBe(16)
    got.forEach((row, i) => {
      const t = i + 4
      expect(maxRelDiff(row, rows.subarray(t * Vp, t * Vp + V), V), `position ${t}`).toBeLessThan(1e-5)
    })
    await expect(dec.step([cache], [1])).rejects.toThrow(/does not fit the model's context of 16/)
    cache.dispose()
  })

  it('follows the weights when they change: the head laid out for decoding is made again', async () => {
    const m = loadForGeneration(TINY_HF)
    try {
      const ids = [5, 17, 42]
      const fullLast = async () => {
        const full = tf.tidy(() => m.logits(tf.tensor2d(ids, [1, ids.length], 'int32')))
        const rows = (await full.data()) as Float32Array
        full.dispose()
        return rows.subarray(2 * m.vocabPadded, 2 * m.vocabPadded + m.config.vocabSize)
      }
      const dec = new BatchDecoder(m)
      const first = await dec.prefill(ids)
      first.cache.dispose()
      const before = first.rows[0]
      expect(maxRelDiff(before, await fullLast(), m.config.vocabSize)).toBeLessThan(1e-5)
      // A training step assigns new values to the same variable.
      const wte = m.p('wte.weight')
      const changed = tf.tidy(() => tf.mul(wte, tf.linspace(0.5, 1.5, m.config.nEmbd)))
      wte.assign(changed)
      changed.dispose()
      const again = await dec.prefill(ids)
      again.cache.dispose()
      const after = again.rows[0]
      const want = await fullLast()
      expect(maxRelDiff(after, want, m.config.vocabSize)).toBeLessThan(1e-5)
      expect(maxRelDiff(after, before, m.config.vocabSize)).toBeGreaterThan(1e-2)
    } finally {
      m.dispose()
    }
  })

  it('greedy generation picks the same tokens as full recompute, past the window', async () => {
    const { kv, full } = await bothWays(model, { ids: [1, 2, 3, 4, 5] }, params({ maxNewTokens: 40 }))
    expect(kv.ids).toHaveLength(40)
    expect(kv.ids).toEqual(full.ids)
    expect(new Set(kv.ids).size).toBeGreaterThan(1)
    expect(kv.message).toMatch(/reached the model's context of 16 tokens/)
  })

  it('a sampled generation is the same for the same seed, and both ways', async () => {
    const p = params({ maxNewTokens: 30, temperature: 1, topK: 20, topP: 0.9, seed: 77 })
    const { kv, full } = await bothWays(model, { ids: [9, 8, 7] }, p)
    const again = await bothWays(model, { ids: [9, 8, 7] }, p)
    expect(kv.ids).toEqual(again.kv.ids)
    expect(kv.ids).toEqual(full.ids)
    const other = await bothWays(model, { ids: [9, 8, 7] }, { ...p, seed: 78 })
    expect(other.kv.ids).not.toEqual(kv.ids)
  })

  it('cuts a prompt longer than the window from the left and says so', async () => {
    const long = Array.from({ length: 25 }, (_, i) => (i * 7) % 100)
    const { kv, full } = await bothWays(model, { ids: long }, params({ maxNewTokens: 6 }))
    expect(kv.message).toMatch(/prompt has 25 tokens, more than the model's context of 16: generation sees only its last 16/)
    expect(kv.promptTokens).toBe(16)
    expect(kv.ids).toEqual(full.ids)
    const cut = await bothWays(model, { ids: long.slice(-16) }, params({ maxNewTokens: 6 }))
    expect(cut.kv.ids).toEqual(kv.ids)
  })

  it('refuses text prompts for a model without the GPT-2 vocabulary, and ids past its vocabulary', async () => {
    const g = new Generator(model)
    await expect(g.generate({ text: 'hello' }, params())).rejects.toThrow(/vocabulary has 100 tokens: it was not trained with the GPT-2 tokenizer/)
    await expect(g.generate({ ids: [3, 100] }, params())).rejects.toThrow(/Prompt token 100 is outside the model's vocabulary of 100/)
    g.dispose()
  })
})

describe('KV cache on a checkpoint from the real trainer', () => {
  let workbench: Workbench
  let model: GPT
  beforeAll(async () => {
    workbench = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    const config = {
      model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
      batchSize: 4,
      steps: 12,
      optimizer: { lr: 3e-3 },
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 1 },
      backend: 'wasm',
      seed: 3
    }
    const reply = await workbench.call('jobs.start', { kind: 'train', params: { config } })
    if (!reply.ok) throw new Error(reply.error.message)
    const job = await workbench.supervisor.waitForExit(reply.value.id)
    expect(job.state, job.error ?? '').toBe('done')
    const ckpt = workbench.runs.checkpoints(workbench.runs.byJob(job.id)!.id).at(-1)!
    model = loadForGeneration(ckpt.path)
  }, 180_000)
  afterAll(async () => {
    model?.dispose()
    await workbench?.close()
  })

  it('greedy text from a prompt is the same with the cache and with full recompute', async () => {
    const { kv, full } = await bothWays(model, { text: 'Call me Ishmael. Some years ago' }, params({ maxNewTokens: 48 }))
    expect(kv.length).toBe(48)
    expect(kv.ids).toEqual(full.ids)
    expect(kv.text).toBe(full.text)
    expect(kv.ids.every((id) => id < 50257)).toBe(true)
  })
})
