// runs.batch (the run page's batch inspector) through the real Workbench: a short run trains in a
// worker and keeps checkpoints; the batch of step 5 replayed from the step-3 checkpoint's sampler
// state equals the one replayed from the seed, token pieces add up to the decoded text with
// end-of-text on its own piece, and wrong steps, runs and splits are refused by name.
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { END_OF_TEXT, decodeTokens, encodeText } from '../src/core/data/gpt2-tokenizer'
import { readShard } from '../src/core/data/shards'
import { inspectBatch } from '../src/core/engine/batch-inspector'
import { tokenPieces } from '../src/main/services/batches'
import { closeWorkbenches, openWorkbench } from './workbench-fixture'
import { waitFor } from './helpers'

afterEach(closeWorkbenches)

describe('token pieces', () => {
  it('join to the decoded text; a character split over tokens lands on the token that completes it', () => {
    const ids = [...encodeText('naïve café 🐳 whale'), END_OF_TEXT, ...encodeText('Ishmael')]
    const pieces = tokenPieces(ids)
    expect(pieces).toHaveLength(ids.length)
    expect(pieces.join('')).toBe(decodeTokens(ids))
    expect(pieces[ids.indexOf(END_OF_TEXT)]).toBe('<|endoftext|>')
    // The whale emoji is 4 bytes over more than one byte-level token: all but the last decode to nothing.
    expect(pieces.filter((p) => p === '').length).toBeGreaterThan(0)
    expect(pieces.some((p) => p.includes('🐳'))).toBe(true)
  })
})

describe('runs.batch', () => {
  it("reproduces a trained run's batch at step 5 from its checkpoint's sampler state, decoded with pieces", async () => {
    const wb = openWorkbench()
    const config = {
      name: 'batch api',
      model: { nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 24 },
      batchSize: 4,
      steps: 6,
      seed: 4321,
      eval: { interval: 0 },
      checkpoint: { interval: 3, keepLast: 5 }
    }
    const started = await wb.call('jobs.start', { kind: 'train', params: { config } })
    if (!started.ok) throw new Error(started.error.message)
    const job = await waitFor(
      () => {
        const j = wb.jobs.get(started.value.id)
        return j && ['done', 'failed', 'cancelled'].includes(j.state) ? j : null
      },
      120_000,
      'the run to finish'
    )
    expect(job.error).toBeNull()
    expect(job.state).toBe('done')
    const run = wb.runs.byJob(job.id)!

    const reply = await wb.call('runs.batch', { id: run.id, step: 5, rows: 3 })
    if (!reply.ok) throw new Error(reply.error.message)
    const b = reply.value
    expect(b).toMatchObject({ runId: run.id, split: 'train', step: 5, batch: 4, seq: 24, paddingShare: 0 })
    expect(b.replayedFrom).toMatchObject({ kind: 'checkpoint', step: 3 })
    expect(b.draws).toBe(4) // step 4's rows, replayed from step 3's state
    expect(b.rows).toHaveLength(3)
    // From the seed instead: 16 draws to the same windows.
    const fromSeed = inspectBatch({ config: run.config, step: 5, split: 'train', train: readShard(run.datasetDir!, 'train'), val: null, checkpointsDir: null })
    expect(fromSeed.draws).toBe(16)
    expect(b.rows.map((r) => r.inputs)).toEqual(fromSeed.rows.slice(0, 3).map((r) => r.inputs))
    expect(b.rows.map((r) => r.start)).toEqual(fromSeed.rows.slice(0, 3).map((r) => r.start))
    for (const r of b.rows) {
      expect(r.inputs).toHaveLength(24)
      expect(r.pieces.join('')).toBe(r.text)
      for (const t of r.boundaries) expect(r.pieces[t]).toBe('<|endoftext|>')
    }
    // Counts are over the whole batch, not the rows sent.
    expect(b.endOfTextTokens).toBe(fromSeed.endOfTextTokens)
    expect(b.documents).toBe(fromSeed.documents)

    const val = await wb.call('runs.batch', { id: run.id, step: 1, split: 'val' })
    if (!val.ok) throw new Error(val.error.message)
    expect(val.value.split).toBe('val')
    expect(val.value.rows[0].start).toBe(0)

    expect(await wb.call('runs.batch', { id: run.id, step: 7 })).toEqual({ ok: false, error: { code: 'bad_input', message: `Run ${run.id} trains 6 steps; step 7 is past its end.` } })
    expect(await wb.call('runs.batch', { id: 999, step: 1 })).toEqual({ ok: false, error: { code: 'not_found', message: 'Run 999 does not exist.' } })
    const bad = await wb.call('runs.batch', { id: run.id, step: 0 })
    expect(!bad.ok && bad.error.code).toBe('bad_input')
    expect(path.isAbsolute(run.datasetDir!)).toBe(true)
  }, 180_000)
})
