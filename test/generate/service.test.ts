// Generation through the API with real generation workers: a checkpoint loads in its own job, a
// generation streams its tokens as events and lands in history (searchable), a long one stops
// mid-way when asked, the same seed gives the same text, two checkpoints side by side, unload.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent } from '../../src/shared/api'
import type { GenerationEvent, GenerationRecord } from '../../src/shared/generate'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, ROOT, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { randomCheckpoint } from './fixtures'

let workbench: Workbench
let ckptA: string
let ckptB: string
const events: GenerationEvent[] = []

async function call<T>(method: string, input?: unknown): Promise<T> {
  const reply = await workbench.call(method as never, input)
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.value as T
}

function finished(id: number, timeoutMs = 60_000): Promise<GenerationRecord> {
  return waitFor(() => events.find((e): e is Extract<GenerationEvent, { type: 'finished' }> => e.type === 'finished' && e.record.id === id)?.record, timeoutMs, `generation ${id} to finish`)
}

beforeAll(async () => {
  const root = tempDir('gptw-gen-api-')
  workbench = new Workbench({ workspaceRoot: path.join(root, 'ws'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  workbench.events.on('event', (e: ApiEvent) => {
    if (e.event === 'generation') events.push(e.data)
  })
  ckptA = await randomCheckpoint(root, 'model-a', 1)
  ckptB = await randomCheckpoint(root, 'model-b', 2)
})
afterAll(() => workbench.close())

describe('generation API', () => {
  it('refuses a folder that is not a checkpoint, naming it', async () => {
    const reply = await workbench.call('generate.load', { checkpoint: '/no/such/checkpoint' })
    expect(reply.ok).toBe(false)
    if (!reply.ok) {
      expect(reply.error.code).toBe('bad_input')
      expect(reply.error.message).toMatch(/Checkpoint folder \/no\/such\/checkpoint does not exist\. Pick a checkpoint of a training run, or a Hugging Face GPT-2 folder/)
    }
    const empty = tempDir()
    const r2 = await workbench.call('generate.start', { checkpoint: empty, prompt: 'x' })
    expect(!r2.ok && r2.error.message).toMatch(/has no config\.json and no model\.safetensors/)
  })

  it('streams a generation token by token and keeps it in searchable history', async () => {
    const rec = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'The white whale', params: { maxNewTokens: 12, temperature: 1, seed: 5 } })
    expect(rec.state).toBe('running')
    const done = await finished(rec.id)
    const streamed = events.filter((e): e is Extract<GenerationEvent, { type: 'tokens' }> => e.type === 'tokens' && e.id === rec.id)
    expect(streamed.length).toBeGreaterThan(1)
    expect(streamed.flatMap((e) => e.tokens)).toHaveLength(12)
    expect(streamed.map((e) => e.text).join('')).toBe(done.text)
    expect(done).toMatchObject({ state: 'done', stopReason: 'max-tokens', tokens: 12, prompt: 'The white whale' })
    const job = workbench.jobs.get(done.jobId!)!
    expect(job.kind).toBe('generate')
    expect(job.state).toBe('running') // the model stays loaded for the next request

    const full = await call<GenerationRecord>('generate.get', { id: rec.id })
    expect(full.tokenInfo).toHaveLength(12)
    for (const t of full.tokenInfo!) {
      expect(t.prob).toBeGreaterThan(0)
      expect(t.top).toHaveLength(5)
      expect(t.top[0].prob).toBeGreaterThanOrEqual(t.top[4].prob)
    }

    const hits = await call<GenerationRecord[]>('generate.history', { query: 'whal' })
    expect(hits.map((h) => h.id)).toContain(rec.id)
    expect(await call<GenerationRecord[]>('generate.history', { query: 'narwhal' })).toEqual([])
  })

  it('the same seed gives the same text; another seed another', async () => {
    const params = { maxNewTokens: 10, temperature: 1, topK: 50, seed: 99 }
    const a = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'Ahoy', params })
    const b = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'Ahoy', params })
    const c = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'Ahoy', params: { ...params, seed: 100 } })
    const [ta, tb, tc] = await Promise.all([finished(a.id), finished(b.id), finished(c.id)])
    expect(ta.text).toBe(tb.text)
    expect(tc.text).not.toBe(ta.text)
  })

  it('stops a long generation mid-way and records it as stopped', async () => {
    const rec = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'Once', params: { maxNewTokens: 5000, temperature: 1, seed: 1 } })
    // Past the 16-token window, so the notice that the window moves comes too.
    await waitFor(() => events.filter((e) => e.type === 'tokens' && e.id === rec.id).length >= 20, 60_000, 'some tokens')
    await call('generate.stop', { id: rec.id })
    const done = await finished(rec.id)
    expect(done.state).toBe('stopped')
    expect(done.stopReason).toBe('stopped')
    expect(done.tokens).toBeGreaterThanOrEqual(20)
    expect(done.tokens).toBeLessThan(5000)
    expect(done.message).toMatch(/context of 16 tokens/)
    expect((await call<GenerationRecord[]>('generate.history', { query: 'Once' })).find((h) => h.id === rec.id)?.state).toBe('stopped')
  })

  it('loads a Hugging Face-style folder, and says why a text prompt cannot go to its 100-token vocabulary', async () => {
    const hf = path.join(ROOT, 'test', 'goldens', 'tiny-gpt-hf')
    const session = await call<{ checkpoint: string; state: string }>('generate.load', { checkpoint: hf })
    expect(session.state).toBe('loading')
    await waitFor(() => events.some((e) => e.type === 'model' && e.session.checkpoint === hf && e.session.state === 'ready'), 60_000, 'the HF folder to load')
    const rec = await call<GenerationRecord>('generate.start', { checkpoint: hf, prompt: 'hello' })
    const done = await finished(rec.id)
    expect(done.state).toBe('failed')
    expect(done.message).toMatch(/vocabulary has 100 tokens: it was not trained with the GPT-2 tokenizer/)
    await call('generate.unload', { checkpoint: hf })
  })

  it('generates from two checkpoints side by side with the same seed, then unloads them', async () => {
    const params = { maxNewTokens: 8, temperature: 0.8, seed: 7 }
    const left = await call<GenerationRecord>('generate.start', { checkpoint: ckptA, prompt: 'Side', params, compareGroup: 'cmp-1' })
    const right = await call<GenerationRecord>('generate.start', { checkpoint: ckptB, prompt: 'Side', params, compareGroup: 'cmp-1' })
    const [l, r] = await Promise.all([finished(left.id), finished(right.id)])
    expect(l.compareGroup).toBe('cmp-1')
    expect(r.compareGroup).toBe('cmp-1')
    expect(l.jobId).not.toBe(r.jobId)
    expect(l.text).not.toBe(r.text)
    const models = await call<{ checkpoint: string; state: string }[]>('generate.models')
    expect(models.map((m) => [m.checkpoint, m.state]).sort()).toEqual([
      [ckptA, 'ready'],
      [ckptB, 'ready']
    ])

    await call('generate.unload', { checkpoint: ckptB })
    const ended = await workbench.supervisor.waitForExit(r.jobId!)
    expect(ended.state).toBe('done')
    expect((ended.result as { generations: number }).generations).toBe(1)
    expect((await call<{ checkpoint: string }[]>('generate.models')).map((m) => m.checkpoint)).toEqual([ckptA])
  })
})
