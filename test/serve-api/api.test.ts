// The OpenAI-compatible API with the official `openai` npm package as the client, against two
// random GPT-2-vocabulary checkpoints: the model list, completions (the library's tokens for the
// same seed), streaming joined == not streaming, echo + logprobs summed == minus the total loss
// `gptw score` gives, chat, every error code (the server serving on after each), 16 concurrent
// clients == each alone, a client that goes away freeing its slot, and the host rule.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelConfig } from '../../src/shared/config/model'
import { END_OF_TEXT, encodeText } from '../../src/core/data/gpt2-tokenizer'
import { initBackend } from '../../src/core/engine/backend'
import { BatchGenerator } from '../../src/core/generate/batch-generator'
import { loadForGeneration } from '../../src/core/generate/load'
import { type ServedModel, loadServedModels, unloadServedModels } from '../../src/core/serve-api/models'
import { type ApiServer, startApiServer } from '../../src/core/serve-api/server'
import { randomCheckpoint } from '../generate/fixtures'
import { ROOT, tempDir, waitFor } from '../helpers'

const CONFIG: ModelConfig = { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 64, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }
const KEY = 'sk-test-key'
const dir = tempDir('gptw-serve-api-')
let ckpt: string
let served: ServedModel[]
let server: ApiServer
let client: OpenAI

/** What the library gives alone for a text prompt (end-of-text before it, as the API does). */
async function alone(text: string, maxTokens: number, seed: number, temperature = 1): Promise<string> {
  const model = loadForGeneration(ckpt)
  const g = new BatchGenerator(model, { maxBatch: 1 })
  try {
    const r = await g.submit({
      ids: [END_OF_TEXT, ...encodeText(text)],
      maxTokens,
      sampling: { temperature, topP: 1, topK: 0, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, seed },
      stop: [],
      stopAtEndOfText: true,
      logprobs: null,
      promptLogprobs: false
    }).result
    return r.text
  } finally {
    await g.close()
    model.dispose()
  }
}

async function status(p: Promise<unknown>): Promise<{ status: number; param?: string | null; message: string }> {
  try {
    await p
  } catch (err) {
    if (err instanceof OpenAI.APIError) return { status: err.status ?? -1, param: err.param, message: err.message }
    throw err
  }
  throw new Error('the request succeeded')
}

beforeAll(async () => {
  await initBackend('wasm')
  ckpt = await randomCheckpoint(dir, path.join('moby', 'checkpoints', 'step-40'), 11, CONFIG)
  const other = await randomCheckpoint(dir, 'hf-folder', 12, CONFIG)
  served = loadServedModels([ckpt, other], { maxBatch: 16, maxQueue: 32 })
  server = await startApiServer({ models: served, apiKey: KEY })
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: KEY, maxRetries: 0 })
})
afterAll(async () => {
  await server?.close()
  if (served) await unloadServedModels(served)
})

describe('serving API with the openai client', () => {
  it('lists the models by run and step', async () => {
    const list = await client.models.list()
    expect(list.data.map((m) => m.id)).toEqual(['moby-step-40', 'hf-folder'])
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'gpt-workbench' })
    expect((await client.models.retrieve('hf-folder')).id).toBe('hf-folder')
  })

  it("completes a prompt with the library's tokens for the seed; streaming joined is the same text", async () => {
    const prompt = 'Call me Ishmael. Some years ago'
    const r = await client.completions.create({ model: 'moby-step-40', prompt, max_tokens: 12, temperature: 1, seed: 42 })
    expect(r.object).toBe('text_completion')
    expect(r.choices).toHaveLength(1)
    expect(r.choices[0].text).toBe(await alone(prompt, 12, 42))
    expect(['length', 'stop']).toContain(r.choices[0].finish_reason)
    expect(r.usage).toMatchObject({ prompt_tokens: 1 + encodeText(prompt).length })
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens)

    const stream = await client.completions.create({ model: 'moby-step-40', prompt, max_tokens: 12, temperature: 1, seed: 42, stream: true, stream_options: { include_usage: true } })
    let text = ''
    let finish: string | null = null
    let chunks = 0
    let usage: OpenAI.CompletionUsage | undefined
    for await (const c of stream) {
      if (c.usage) usage = c.usage
      for (const ch of c.choices) {
        text += ch.text
        finish = ch.finish_reason ?? finish
        chunks++
      }
    }
    expect(chunks).toBeGreaterThan(2)
    expect(text).toBe(r.choices[0].text)
    expect(finish).toBe(r.choices[0].finish_reason)
    expect(usage).toEqual(r.usage)
  })

  it('n, a list of prompts and token-id prompts: choice j of a prompt draws with seed + j', async () => {
    const r = await client.completions.create({ model: 'moby-step-40', prompt: ['One', 'Two'], n: 2, max_tokens: 5, seed: 7 })
    expect(r.choices.map((c) => c.index)).toEqual([0, 1, 2, 3])
    expect(r.choices[1].text).toBe(await alone('One', 5, 8))
    expect(r.choices[2].text).toBe(await alone('Two', 5, 7))
    const ids = await client.completions.create({ model: 'moby-step-40', prompt: [END_OF_TEXT, ...encodeText('One')], max_tokens: 5, seed: 7 })
    expect(ids.choices[0].text).toBe(r.choices[0].text)
  })

  it("echo + logprobs: the prompt tokens' logprobs sum to minus the total loss gptw score gives for the text", async () => {
    const text = 'It was the best of times, it was the worst of times.'
    const r = await client.completions.create({ model: 'moby-step-40', prompt: text, max_tokens: 0, echo: true, logprobs: 3 })
    const lp = r.choices[0].logprobs!
    expect(r.choices[0].text).toBe(text)
    expect(lp.tokens!.join('')).toBe(text)
    expect(lp.token_logprobs).toHaveLength(encodeText(text).length)
    expect(Object.keys(lp.top_logprobs![0]).length).toBeGreaterThan(0)
    const sum = lp.token_logprobs!.reduce((s, x) => s + x, 0)

    const file = path.join(dir, 'text.txt')
    fs.writeFileSync(file, text)
    const out = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'score', '--checkpoint', ckpt, '--text', file, '--backend', 'wasm', '--json'], { encoding: 'utf8', timeout: 60_000 })
    expect(out.status, out.stderr).toBe(0)
    const score = JSON.parse(out.stdout.trim()) as { tokens: number; loss: number }
    expect(score.tokens).toBe(lp.token_logprobs!.length)
    expect(Math.abs(sum + score.loss * score.tokens)).toBeLessThan(1e-4)

    // Generated tokens come after the echoed ones, with their own logprobs.
    const more = await client.completions.create({ model: 'moby-step-40', prompt: text, max_tokens: 4, echo: true, logprobs: 1, seed: 3 })
    const mlp = more.choices[0].logprobs!
    expect(mlp.tokens!.length).toBe(encodeText(text).length + more.usage!.completion_tokens)
    expect(more.choices[0].text.startsWith(text)).toBe(true)
    expect(mlp.text_offset![encodeText(text).length]).toBe(text.length)
  })

  it('stop cuts the text before the stop string (finish_reason stop); penalties change the draw; streamed logprobs cover every token', async () => {
    const base = { model: 'moby-step-40', prompt: 'The sea', max_tokens: 16, seed: 9 }
    const free = await client.completions.create(base)
    const stop = free.choices[0].text.slice(4, 7)
    const cut = await client.completions.create({ ...base, stop: [stop, 'never-there'] })
    expect(cut.choices[0].finish_reason).toBe('stop')
    expect(cut.choices[0].text).toBe(free.choices[0].text.slice(0, free.choices[0].text.indexOf(stop)))
    // A large presence penalty on a near-uniform model: some drawn token is pushed out, so the text differs.
    const penalised = await client.completions.create({ ...base, presence_penalty: 2, frequency_penalty: 2, temperature: 0.05 })
    const plain = await client.completions.create({ ...base, temperature: 0.05 })
    expect(penalised.choices[0].text).not.toBe(plain.choices[0].text)
    const stream = await client.completions.create({ ...base, logprobs: 2, stream: true })
    const tokens: string[] = []
    for await (const c of stream) for (const ch of c.choices) tokens.push(...(ch.logprobs?.tokens ?? []))
    expect(tokens.join('')).toBe(free.choices[0].text)
    expect(tokens.length).toBe(free.usage!.completion_tokens)
  })

  it('chat completion with the plain-text template; streaming joined is the same reply', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'You are a sailor.' },
      { role: 'user', content: 'Where is the whale?' }
    ]
    const r = await client.chat.completions.create({ model: 'hf-folder', messages, max_tokens: 10, seed: 5, logprobs: true, top_logprobs: 2 })
    expect(r.object).toBe('chat.completion')
    expect(r.choices[0].message.role).toBe('assistant')
    expect(typeof r.choices[0].message.content).toBe('string')
    expect(r.choices[0].logprobs!.content!.length).toBe(r.usage!.completion_tokens)
    expect(r.usage!.prompt_tokens).toBe(1 + encodeText('System: You are a sailor.\nUser: Where is the whale?\nAssistant:').length)
    const stream = await client.chat.completions.create({ model: 'hf-folder', messages, max_tokens: 10, seed: 5, stream: true })
    let text = ''
    let role: string | undefined
    for await (const c of stream) {
      role ??= c.choices[0]?.delta.role
      text += c.choices[0]?.delta.content ?? ''
    }
    expect(role).toBe('assistant')
    expect(text).toBe(r.choices[0].message.content)
  })

  it('answers each kind of bad request with its status in OpenAI error JSON, and keeps serving', async () => {
    const base = { model: 'moby-step-40', prompt: 'Hello', max_tokens: 2 }
    expect(await status(client.completions.create({ ...base, temperature: 5 }))).toMatchObject({ status: 400, param: 'temperature' })
    expect(await status(client.completions.create({ ...base, prompt: [1, 2, 999999] }))).toMatchObject({ status: 400, param: 'prompt' })
    expect(await status(client.completions.create({ ...base, prompt: [[1, 2], [-5]] }))).toMatchObject({ status: 400, param: 'prompt' })
    expect(await status(client.completions.create({ ...base, stop: Array.from({ length: 5000 }, (_, i) => `s${i}`) }))).toMatchObject({
      status: 400,
      param: 'stop',
      message: expect.stringContaining('at most 4')
    })
    expect(await status(client.completions.create({ ...base, n: 64, max_tokens: 5000 }))).toMatchObject({ status: 400, param: 'max_tokens' })
    expect(await status(client.completions.create({ ...base, n: 1000 }))).toMatchObject({ status: 400, param: 'n' })
    expect(await status(client.completions.create({ ...base, best_of: 3 }))).toMatchObject({ status: 400, param: 'best_of' })
    expect(await status(client.completions.create({ ...base, logit_bias: { '5': 10 } }))).toMatchObject({ status: 400, param: 'logit_bias' })
    expect(await status(client.completions.create({ ...base, model: 'nope' }))).toMatchObject({ status: 404, param: 'model' })
    expect(await status(client.models.retrieve('nope'))).toMatchObject({ status: 404 })
    expect(await status(client.completions.create({ ...base, prompt: 'whale '.repeat(100) }))).toMatchObject({ status: 413, param: 'prompt' })
    expect(await status(client.chat.completions.create({ model: 'moby-step-40', messages: [] }))).toMatchObject({ status: 400, param: 'messages' })
    const nokey = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'wrong', maxRetries: 0 })
    expect(await status(nokey.models.list())).toMatchObject({ status: 401 })

    // What the client would not send: no key at all, malformed JSON, an oversized body, an unknown route.
    const post = (body: string, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
      fetch(`${server.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    const noauth = await post(JSON.stringify(base), {})
    expect(noauth.status).toBe(401)
    expect(((await noauth.json()) as { error: { code: string } }).error.code).toBe('invalid_api_key')
    const bad = await post('{"model": "moby-step-40", "prompt": ')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { type: string; message: string } }).error).toMatchObject({ type: 'invalid_request_error' })
    const big = await post(JSON.stringify({ ...base, prompt: 'x'.repeat(2 << 20) }))
    expect(big.status).toBe(413)
    const route = await fetch(`${server.url}/v2/things`, { headers: { authorization: `Bearer ${KEY}` } })
    expect(route.status).toBe(404)

    const ok = await client.completions.create({ ...base, seed: 1 })
    expect(ok.choices[0].text).toBe(await alone('Hello', 2, 1))
  })

  it('429 when the queue is full; a client that goes away frees its slot', async () => {
    const gen = new BatchGenerator(served[1].generator.model, { maxBatch: 1, maxQueue: 0 })
    const small = await startApiServer({ models: [{ ...served[1], generator: gen }] })
    const c = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'unused', maxRetries: 0 })
    try {
      const abort = new AbortController()
      // top_p 0.5 on this near-uniform random model sorts most of the vocabulary per token: slow enough to abort mid-way.
      const long = await c.completions.create({ model: 'hf-folder', prompt: 'The', max_tokens: 60, top_p: 0.5, seed: 2, stream: true }, { signal: abort.signal })
      const chunks = long[Symbol.asyncIterator]()
      await chunks.next()
      expect(gen.load.active).toBe(1)
      expect(await status(c.completions.create({ model: 'hf-folder', prompt: 'Busy?', max_tokens: 2 }))).toMatchObject({ status: 429, message: expect.stringContaining('busy') })
      abort.abort()
      await waitFor(() => gen.load.active === 0, 20_000, 'the slot to free')
      expect(gen.stats.tokens).toBeLessThan(60)
      const r = await c.completions.create({ model: 'hf-folder', prompt: 'Free?', max_tokens: 2, seed: 4 })
      expect(r.usage!.completion_tokens).toBeGreaterThan(0)
    } finally {
      await small.close()
      await gen.close()
    }
  })

  it('16 clients at once get what each gets alone with its seed, decoded in shared batches', async () => {
    const jobs = Array.from({ length: 16 }, (_, i) => ({ prompt: `Request number ${i} about the sea`, seed: 100 + i, max_tokens: 8 + (i % 5), temperature: i % 3 === 0 ? 0 : 1 }))
    const each: string[] = []
    for (const j of jobs) each.push((await client.completions.create({ model: 'moby-step-40', ...j })).choices[0].text)
    const g = served[0].generator
    const before = { steps: g.stats.steps, rows: g.stats.stepRows }
    const together = await Promise.all(jobs.map((j) => client.completions.create({ model: 'moby-step-40', ...j })))
    expect(together.map((r) => r.choices[0].text)).toEqual(each)
    expect((g.stats.stepRows - before.rows) / (g.stats.steps - before.steps)).toBeGreaterThan(4)
  })

  it('refuses to bind beyond loopback without an API key', async () => {
    await expect(startApiServer({ models: served, host: '0.0.0.0' })).rejects.toThrow(/API key/)
  })
})
