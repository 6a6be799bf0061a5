// Cancelling a generation worker's job while it generates: the job's AbortSignal ends the
// generation at the next token (no pause-point polling per token), the generation is kept as
// stopped with what it had, and the worker exits on its own, cancelled, before the kill grace.
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ApiEvent } from '../../src/shared/api'
import type { GenerationEvent, GenerationRecord } from '../../src/shared/generate'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { randomCheckpoint } from './fixtures'

let workbench: Workbench
let ckpt: string
const events: GenerationEvent[] = []

beforeAll(async () => {
  const root = tempDir('gptw-gen-cancel-')
  workbench = new Workbench({ workspaceRoot: path.join(root, 'ws'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  workbench.events.on('event', (e: ApiEvent) => {
    if (e.event === 'generation') events.push(e.data)
  })
  ckpt = await randomCheckpoint(root, 'model', 3)
})
afterAll(() => workbench.close())

describe('cancelling a generation job', () => {
  it('ends the generation in progress at once and the worker exits cancelled', async () => {
    const reply = await workbench.call('generate.start', { checkpoint: ckpt, prompt: 'Call me', params: { maxNewTokens: 5000, temperature: 1, seed: 3 } })
    if (!reply.ok) throw new Error(reply.error.message)
    const rec = reply.value as GenerationRecord
    await waitFor(() => events.filter((e) => e.type === 'tokens' && e.id === rec.id).length >= 10, 60_000, 'some tokens')
    const jobId = rec.jobId ?? (await waitFor(() => workbench.jobs.list().find((j) => j.kind === 'generate' && j.state === 'running')?.id, 10_000, 'the generate job'))
    workbench.supervisor.cancel(jobId)
    const job = await workbench.supervisor.waitForExit(jobId)
    expect(job.state).toBe('cancelled')
    // Stopped, not failed: the worker reported the generation's end before it exited. Had it run on
    // until the supervisor's kill grace, the record would say the worker ended before it finished.
    const done = await waitFor(
      () => events.find((e): e is Extract<GenerationEvent, { type: 'finished' }> => e.type === 'finished' && e.record.id === rec.id)?.record,
      10_000,
      'the generation to finish'
    )
    expect({ state: done.state, stopReason: done.stopReason }, done.message ?? '').toMatchObject({ state: 'stopped', stopReason: 'stopped' })
    expect(done.tokens).toBeGreaterThanOrEqual(10)
    expect(done.tokens).toBeLessThan(5000)
  })
})
