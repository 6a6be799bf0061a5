// The small CPU preset learns a real text: trained on the bundled Moby Dick sample, its loss
// falls well below the text's unigram entropy (what a model with no context could reach).
// It is the `slow` vitest project (npm run test:slow); `npm test` runs it too.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Workbench } from '../../src/main/services/workbench'
import { readShard } from '../../src/core/data/shards'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'

const STEPS = 300

let workbench: Workbench
beforeAll(() => {
  workbench = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
})
afterAll(() => workbench.close())

/** Entropy (nats) of the token distribution: the loss of the best context-free predictor. */
function unigramEntropy(tokens: Uint16Array): number {
  const counts = new Map<number, number>()
  for (const t of tokens) counts.set(t, (counts.get(t) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) h -= (n / tokens.length) * Math.log(n / tokens.length)
  return h
}

describe('learning', () => {
  it(`the tiny-cpu preset drives the loss on Moby Dick well below the unigram entropy in ${STEPS} steps`, { timeout: 900_000 }, async () => {
    const reply = await workbench.call('jobs.start', { kind: 'train', params: { preset: 'tiny-cpu', steps: STEPS } })
    if (!reply.ok) throw new Error(reply.error.message)
    const job = await workbench.supervisor.waitForExit(reply.value.id)
    expect(job.state, job.error ?? '').toBe('done')
    const run = workbench.runs.byJob(job.id)!
    const entropy = unigramEntropy(readShard(run.datasetDir!, 'train'))
    const points = workbench.runs.metrics(run.id)
    const losses = points.filter((p) => p.name === 'loss').map((p) => p.value)
    const val = points.filter((p) => p.name === 'valLoss').map((p) => p.value)
    const lastTen = losses.slice(-10).reduce((a, b) => a + b, 0) / 10
    expect(losses[0]).toBeGreaterThan(10.5) // ln(50257) = 10.8 at initialisation
    expect(lastTen).toBeLessThan(entropy - 0.5)
    expect(val.at(-1)!).toBeLessThan(entropy - 0.4)
    console.log(JSON.stringify({ unigramEntropy: entropy, firstLoss: losses[0], lastTenMean: lastTen, lastValLoss: val.at(-1), seconds: (job.endedAt! - job.startedAt!) / 1000 }))
  })
})
