// The generate service on the PyTorch engine (issue 18): generate.load with engine pytorch and a
// device starts the generation worker with a model server behind it; the loaded model says which
// engine and dtype ran; a greedy generation gives the embedded engine's text token for token, and
// its Serve API (the same model server) the same tokens; a load on another engine loads the model
// again (refused while it generates).
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { ApiEvent } from '../../src/shared/api'
import { type GenerationEvent, type GenerationRecord, type ModelSession, weightsLabel } from '../../src/shared/generate'
import { parameterCount } from '../../src/shared/config/model'
import { decodeTokens } from '../../src/core/data/gpt2-tokenizer'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { randomCheckpoint } from '../generate/fixtures'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

describeTorch('generation on the PyTorch engine through the service', () => {
  let w: Workbench
  let ckpt: string
  const events: GenerationEvent[] = []
  const saved = { python: process.env.GPTW_PYTHON, pkg: process.env.GPTW_TORCH_PACKAGE_DIR }

  beforeAll(async () => {
    process.env.GPTW_PYTHON = PYTHON
    process.env.GPTW_TORCH_PACKAGE_DIR = PACKAGE_DIR
    const root = tempDir('gptw-torch-gen-')
    w = new Workbench({ workspaceRoot: path.join(root, 'ws'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    w.events.on('event', (e: ApiEvent) => {
      if (e.event === 'generation') events.push(e.data)
    })
    ckpt = await randomCheckpoint(root, 'model', 3)
  })
  afterAll(async () => {
    await w?.close()
    for (const [k, v] of [
      ['GPTW_PYTHON', saved.python],
      ['GPTW_TORCH_PACKAGE_DIR', saved.pkg]
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })

  async function call<T>(method: string, input?: unknown): Promise<T> {
    const reply = await w.call(method as never, input)
    if (!reply.ok) throw new Error(reply.error.message)
    return reply.value as T
  }
  const ready = async (jobId: number): Promise<ModelSession> => {
    const s = await waitFor(
      () => events.find((e): e is Extract<GenerationEvent, { type: 'model' }> => e.type === 'model' && e.session.jobId === jobId && e.session.state !== 'loading')?.session,
      120_000,
      `model of job ${jobId} loaded`
    )
    expect(s.state, s.error ?? '').toBe('ready')
    return s
  }
  const finished = (id: number): Promise<GenerationRecord> =>
    waitFor(() => events.find((e): e is Extract<GenerationEvent, { type: 'finished' }> => e.type === 'finished' && e.record.id === id)?.record, 120_000, `generation ${id}`)
  // past the 16-token window: the window moves on both engines the same way
  const greedy = { maxNewTokens: 24, temperature: 0, stopAtEndOfText: false }

  it('loads on PyTorch cpu:0, says so, and generates the embedded engine greedy text; another engine reloads', async () => {
    const torch = await call<ModelSession>('generate.load', { checkpoint: ckpt, engine: 'pytorch', device: 'cpu:0' })
    const loaded = await ready(torch.jobId)
    expect(loaded.model).toMatchObject({ engine: 'pytorch', dtype: 'float32', nLayer: 1, nEmbd: 16, nCtx: 16 })
    expect(loaded.model!.backend).toMatch(/^PyTorch engine \(torch \d+\.\d+.*\) on cpu, float32$/)
    // the weights' bytes as the server counted its tensors: float32, 4 a parameter
    expect(loaded.model!.weightBytes).toBe(parameterCount(loaded.model!) * 4)
    expect(weightsLabel(loaded.model!)).toMatch(/^\d+(\.\d)? MiB, float32$/)
    expect(w.jobs.get(torch.jobId)!.params).toMatchObject({ engine: 'pytorch', device: 'cpu:0' })

    // the same load again keeps the model loaded
    expect((await call<ModelSession>('generate.load', { checkpoint: ckpt, engine: 'pytorch', device: 'cpu:0' })).jobId).toBe(torch.jobId)

    const a = await finished((await call<GenerationRecord>('generate.start', { checkpoint: ckpt, prompt: 'Call me Ishmael.', params: greedy })).id)
    expect(a).toMatchObject({ state: 'done', tokens: 24, jobId: torch.jobId })

    // Serve API over the model on PyTorch: the same server answers the openai client, greedily as above
    // (up to the 16-token window: the API does not move it)
    await call('generate.serve', { checkpoint: ckpt, on: true })
    const serving = await waitFor(
      () => events.find((e): e is Extract<GenerationEvent, { type: 'model' }> => e.type === 'model' && e.session.jobId === torch.jobId && !!e.session.serve?.baseUrl)?.session.serve,
      60_000,
      'the API to serve'
    )
    const client = new OpenAI({ baseURL: serving.baseUrl!, apiKey: serving.apiKey, maxRetries: 0 })
    const api = await client.completions.create({ model: serving.modelId!, prompt: 'Call me Ishmael.', max_tokens: 8, temperature: 0 })
    const ids = (await call<GenerationRecord>('generate.get', { id: a.id })).tokenInfo!.map((t) => t.id)
    expect(api.choices[0].text).toBe(decodeTokens(ids.slice(0, 8)))
    await call('generate.serve', { checkpoint: ckpt, on: false })

    // another engine while a generation runs is refused; once idle it loads again
    const long = await call<GenerationRecord>('generate.start', { checkpoint: ckpt, prompt: 'x', params: { ...greedy, maxNewTokens: 2000 } })
    const refused = await w.call('generate.load', { checkpoint: ckpt, engine: 'embedded' })
    expect(!refused.ok && refused.error.message).toMatch(/is generating on the pytorch engine: stop that generation, then load it again/)
    await call('generate.stop', { id: long.id })
    await finished(long.id)

    const embedded = await call<ModelSession>('generate.load', { checkpoint: ckpt, engine: 'embedded' })
    expect(embedded.jobId).not.toBe(torch.jobId)
    const embeddedModel = (await ready(embedded.jobId)).model!
    expect(embeddedModel).toMatchObject({ engine: 'embedded', dtype: 'float32', weightBytes: loaded.model!.weightBytes })
    await waitFor(() => w.jobs.get(torch.jobId)!.state === 'done', 30_000, 'the PyTorch worker to end')

    const b = await finished((await call<GenerationRecord>('generate.start', { checkpoint: ckpt, prompt: 'Call me Ishmael.', params: greedy })).id)
    expect(b).toMatchObject({ state: 'done', tokens: 24, jobId: embedded.jobId })
    expect(b.text).toBe(a.text)
    const full = [await call<GenerationRecord>('generate.get', { id: a.id }), await call<GenerationRecord>('generate.get', { id: b.id })]
    expect(full[0].tokenInfo!.map((t) => t.id)).toEqual(full[1].tokenInfo!.map((t) => t.id))
  })
})
