// The app's Serve switch (issue 16): the OpenAI-compatible API over a model loaded for generation,
// run by its generation worker on 127.0.0.1 with a key main makes. Through the real Workbench and
// worker, with the official openai client: the session shows starting, then the URL, model id and
// key; a completion answers and the counters move; a wrong key gets 401; off closes the port; an
// unload takes the API with it. A model not loaded cannot be served.
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ModelSession } from '../../src/shared/generate'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { randomCheckpoint } from './fixtures'

let workbench: Workbench
let checkpoint: string

async function call<T>(method: string, input?: unknown): Promise<T> {
  const reply = await workbench.call(method as never, input)
  if (!reply.ok) throw new Error(reply.error.message)
  return reply.value as T
}

const session = (): ModelSession | undefined => workbench.generation.models().find((m) => m.checkpoint === checkpoint)

/** Polls until nothing answers at `url` any more. */
async function portClosed(url: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (
    await fetch(url).then(
      () => true,
      () => false
    )
  ) {
    if (Date.now() > deadline) throw new Error(`${url} still answers`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

beforeAll(async () => {
  const root = tempDir('gptw-serve-switch-')
  workbench = new Workbench({ workspaceRoot: path.join(root, 'ws'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  checkpoint = await randomCheckpoint(root, 'served', 3)
})
afterAll(() => workbench.close())

describe('the Serve switch on a loaded model', () => {
  it('serves the loaded model over the OpenAI API with its own key, counts requests, and stops on off and on unload', async () => {
    const refused = await workbench.call('generate.serve', { checkpoint, on: true })
    expect(refused.ok).toBe(false)
    expect(!refused.ok && refused.error.message).toMatch(/is not loaded: load it in Generate first/)

    await call('generate.load', { checkpoint })
    await waitFor(() => session()?.state === 'ready', 60_000, 'the model to load')
    const starting = await call<ModelSession>('generate.serve', { checkpoint, on: true })
    expect(starting.serve?.state).toBe('starting')
    const serving = await waitFor(
      () => {
        const s = session()
        return s?.serve?.state === 'serving' ? s.serve : undefined
      },
      60_000,
      'the API to start'
    )
    expect(serving.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
    expect(serving.apiKey).toMatch(/^gptw-[\w-]{32}$/)

    const client = new OpenAI({ baseURL: serving.baseUrl!, apiKey: serving.apiKey })
    const models = await client.models.list()
    expect(models.data.map((m) => m.id)).toEqual([serving.modelId])
    const completion = await client.completions.create({ model: serving.modelId!, prompt: 'Call me Ishmael.', max_tokens: 5, temperature: 0 })
    expect(completion.usage?.completion_tokens).toBe(5)
    const counted = await waitFor(
      () => {
        const s = session()?.serve
        return s && s.completionTokens >= 5 ? s : undefined
      },
      10_000,
      'the counters to move'
    )
    expect(counted.requests).toBeGreaterThanOrEqual(2) // the model list and the completion
    expect(counted.promptTokens).toBeGreaterThan(0)

    const stranger = new OpenAI({ baseURL: serving.baseUrl!, apiKey: 'not-the-key', maxRetries: 0 })
    await expect(stranger.models.list()).rejects.toMatchObject({ status: 401 })

    await call('generate.serve', { checkpoint, on: false })
    await waitFor(() => session()?.serve === null, 20_000, 'the API to stop')
    await portClosed(`${serving.baseUrl}/models`)

    // On again (a new key), then an unload takes the API with the model.
    await call('generate.serve', { checkpoint, on: true })
    const again = await waitFor(
      () => {
        const s = session()?.serve
        return s?.state === 'serving' ? s : undefined
      },
      60_000,
      'the API to start again'
    )
    expect(again.apiKey).not.toBe(serving.apiKey)
    await call('generate.unload', { checkpoint })
    await waitFor(() => session() === undefined, 30_000, 'the model to unload')
    await portClosed(`${again.baseUrl}/models`)
  }, 180_000)
})
