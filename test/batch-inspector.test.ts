// The batch inspector reproduces what the trainer consumed: for every step of a fresh run and of a
// run resumed from a checkpoint, the inspector's tokens (from the seed, or from the nearest saved
// sampler state) equal the micro-batches the trainer drew, recorded in-process through a hook on
// Trainer.nextMicroBatches. Also: boundaries, decoding, repetition counts and the validation batch.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { END_OF_TEXT, decodeTokens, encodeText } from '../src/core/data/gpt2-tokenizer'
import { initBackend } from '../src/core/engine/backend'
import { describeBatch, inspectBatch, samplerStart, validationBatch } from '../src/core/engine/batch-inspector'
import { sequentialBatches } from '../src/core/engine/batches'
import { loadTraining, saveTrainingCheckpoint } from '../src/core/engine/checkpoint-tf'
import { GPT, initParams } from '../src/core/engine/model'
import { Trainer, type TrainerState } from '../src/core/engine/trainer'
import { inlineContext } from '../src/core/job-context'
import { TrainConfig } from '../src/shared/config/train'
import { readShard } from '../src/core/data/shards'
import { MOBY_DICK, ROOT, tempDir } from './helpers'

const SHAPE = { nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 24, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }
const STEPS = 7

/** Moby Dick's paragraphs as documents, end-of-text between them, as the tokenizer packs them. */
function shard(): { train: Uint16Array; val: Uint16Array } {
  const paragraphs = fs
    .readFileSync(MOBY_DICK, 'utf8')
    .slice(30_000, 60_000)
    .split(/\n\s*\n/)
    .filter((p) => p.trim())
  const ids = paragraphs.flatMap((p) => [...encodeText(p.trim()), END_OF_TEXT])
  const cut = Math.floor(ids.length * 0.9)
  return { train: Uint16Array.from(ids.slice(0, cut)), val: Uint16Array.from(ids.slice(cut)) }
}

/** Records the global batch (micro-batches joined in order) the trainer draws at each step. */
function record(trainer: Trainer, into: Map<number, number[]>): void {
  const draw = trainer.nextMicroBatches.bind(trainer)
  trainer.nextMicroBatches = () => {
    const micro = draw()
    into.set(
      trainer.state.step + 1,
      micro.flatMap((m) => Array.from(m.inputs))
    )
    into.set(
      -(trainer.state.step + 1),
      micro.flatMap((m) => Array.from(m.targets))
    )
    return micro
  }
}

describe('batch inspector', () => {
  const data = shard()
  const config = TrainConfig.parse({ model: SHAPE, batchSize: 6, microBatches: 3, steps: STEPS, seed: 1234, devices: ['cpu:0'], checkpoint: { interval: 3, keepLast: 5 }, eval: { interval: 0 } })
  const settings = { beta1: config.optimizer.beta1, beta2: config.optimizer.beta2, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay }
  const fresh = new Map<number, number[]>()
  const resumed = new Map<number, number[]>()
  let freshDir = ''
  let resumedDir = ''

  beforeAll(async () => {
    // The fastest backend here (the native kernels where built): the batches do not depend on it.
    await initBackend('auto')
    // A fresh run of STEPS steps, checkpoints at 3 and 6 (and the end).
    freshDir = path.join(tempDir(), 'checkpoints')
    const save = (dir: string, model: GPT, t: () => Trainer) => async (s: TrainerState) =>
      void (await saveTrainingCheckpoint(dir, { model, optimizer: t().optimizer, trainer: { ...s }, step: s.step, keepLast: 5 }))
    const model = new GPT(config.model, initParams(config.model, config.seed))
    const trainer: Trainer = new Trainer({ config, model, train: data.train, val: null, ctx: inlineContext(), onCheckpoint: save(freshDir, model, () => trainer) })
    record(trainer, fresh)
    await trainer.run()
    // A second run that stops at step 3, then resumes from that checkpoint in a new trainer.
    resumedDir = path.join(tempDir(), 'checkpoints')
    const first = new GPT(config.model, initParams(config.model, config.seed))
    const part: Trainer = new Trainer({ config: { ...config, steps: 3 }, model: first, train: data.train, val: null, ctx: inlineContext(), onCheckpoint: save(resumedDir, first, () => part) })
    record(part, resumed)
    await part.run()
    const loaded = loadTraining(path.join(resumedDir, 'step-3'), { expect: config.model, settings })
    const t = loaded.trainer!
    const rest: Trainer = new Trainer({
      config,
      model: loaded.model,
      optimizer: loaded.optimizer,
      state: { step: t.step, rngState: t.rngState, tokensSeen: t.tokensSeen, elapsedSeconds: t.elapsedSeconds },
      train: data.train,
      val: null,
      ctx: inlineContext(),
      onCheckpoint: save(resumedDir, loaded.model, () => rest)
    })
    record(rest, resumed)
    await rest.run()
  }, 300_000)

  it('gives, for every step of a fresh run, the tokens the trainer consumed, from the seed and from checkpoints', () => {
    expect(fresh.size).toBe(2 * STEPS)
    for (let step = 1; step <= STEPS; step++) {
      for (const checkpointsDir of [null, freshDir]) {
        const b = inspectBatch({ config, step, split: 'train', train: data.train, val: data.val, checkpointsDir })
        expect(
          b.rows.flatMap((r) => r.inputs),
          `step ${step} inputs`
        ).toEqual(fresh.get(step))
        expect(
          b.rows.flatMap((r) => r.targets),
          `step ${step} targets`
        ).toEqual(fresh.get(-step))
        for (const r of b.rows) expect(r.inputs).toEqual(Array.from(data.train.subarray(r.start, r.start + SHAPE.nCtx)))
        const expectFrom = checkpointsDir && step > 3 ? { kind: 'checkpoint', step: step > 6 ? 6 : 3 } : { kind: 'seed' }
        expect(b.replayedFrom).toMatchObject(expectFrom)
        expect(b.draws).toBe((step - 1 - (expectFrom.kind === 'checkpoint' ? expectFrom.step! : 0)) * config.batchSize)
      }
    }
    // Consecutive steps draw different windows.
    expect(fresh.get(2)).not.toEqual(fresh.get(3))
  })

  it('gives the same for a run resumed from its step-3 checkpoint', () => {
    expect(resumed.size).toBe(2 * STEPS)
    for (let step = 1; step <= STEPS; step++) {
      const b = inspectBatch({ config, step, split: 'train', train: data.train, val: data.val, checkpointsDir: resumedDir })
      expect(
        b.rows.flatMap((r) => r.inputs),
        `resumed step ${step}`
      ).toEqual(resumed.get(step))
      expect(b.rows.flatMap((r) => r.targets)).toEqual(resumed.get(-step))
    }
    expect(samplerStart(config, resumedDir, 5).from).toMatchObject({ kind: 'checkpoint', step: 3 })
  })

  it('marks end-of-text, decodes rows, numbers documents and counts repeats', () => {
    const b = inspectBatch({ config, step: 4, split: 'train', train: data.train, val: data.val })
    for (const r of b.rows) {
      expect(r.boundaries).toEqual(r.inputs.flatMap((id, t) => (id === END_OF_TEXT ? [t] : [])))
      expect(r.text).toBe(decodeTokens(r.inputs))
      expect(r.text.split('<|endoftext|>').length - 1).toBe(r.boundaries.length)
      expect(r.documents.length).toBe(r.boundaries.filter((t) => t < SHAPE.nCtx - 1).length + 1)
    }
    expect(b.endOfTextTokens).toBe(b.rows.reduce((n, r) => n + r.boundaries.length, 0))
    // Two rows over the same window: every document and every token repeated.
    const one = b.rows[0]
    const inputs = Int32Array.from([...one.inputs, ...one.inputs])
    const targets = Int32Array.from([...one.targets, ...one.targets])
    const twice = describeBatch(data.train, { inputs, targets, batch: 2, seq: SHAPE.nCtx }, [one.start, one.start], { split: 'train', step: 4, replayedFrom: { kind: 'seed', seed: 1 }, draws: 0 })
    expect(twice.repeatedDocumentShare).toBe(1)
    expect(twice.repeatedTokenShare).toBe(1)
    // Two rows far apart: nothing repeated.
    const apart = describeBatch(data.train, { inputs, targets, batch: 2, seq: SHAPE.nCtx }, [0, 5000], { split: 'train', step: 4, replayedFrom: { kind: 'seed', seed: 1 }, draws: 0 })
    expect(apart.repeatedDocuments).toBe(0)
    expect(apart.repeatedTokenShare).toBe(0)
  })

  it('the validation batch is the first window batch the trainer scores', () => {
    const v = inspectBatch({ config, step: 3, split: 'val', train: data.train, val: data.val })
    const first = sequentialBatches(data.val, config.batchSize, SHAPE.nCtx, 1).next().value!
    expect(v.rows.flatMap((r) => r.inputs)).toEqual(Array.from(first.inputs))
    expect(validationBatch(data.val, config).starts).toEqual(v.rows.map((r) => r.start))
    expect(() => inspectBatch({ config, step: 1, split: 'val', train: data.train, val: null })).toThrow(/no validation split/)
  })

  it('gptw batch prints the same batch for a run trained by gptw train, as text and as JSON', () => {
    const env = { ...process.env, GPTW_HOME: tempDir() }
    const gptw = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), ...args], { encoding: 'utf8', env, timeout: 240_000 })
    const trained = gptw('train', '--preset', 'tiny-cpu', '--steps', '2', '--json')
    expect(trained.status, trained.stderr).toBe(0)
    const done = JSON.parse(trained.stdout.trim().split('\n').at(-1)!) as { runId: number; done: string }
    expect(done.done).toBe('done')
    const json = gptw('batch', '--run', String(done.runId), '--step', '2', '--json')
    expect(json.status, json.stderr).toBe(0)
    const printed = JSON.parse(json.stdout) as { runId: number; rows: { start: number; inputs: number[] }[]; replayedFrom: { kind: string } }
    const runDir = path.join(env.GPTW_HOME, 'runs', String(done.runId))
    const runConfig = TrainConfig.parse(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')))
    const datasetDir = path.join(env.GPTW_HOME, 'datasets', 'sample-moby-dick', 'tokens')
    const train = readShard(datasetDir, 'train')
    for (const r of printed.rows) expect(r.inputs).toEqual(Array.from(train.subarray(r.start, r.start + r.inputs.length)))
    const expected = inspectBatch({ config: runConfig, step: 2, split: 'train', train, val: null })
    expect(printed.rows.map((r) => r.start)).toEqual(expected.rows.map((r) => r.start))
    expect(printed.rows.length).toBe(runConfig.batchSize)
    const text = gptw('batch', '--run', String(done.runId), '--step', '2')
    expect(text.status).toBe(0)
    expect(text.stdout).toContain(`Run ${done.runId}, step 2: the training batch, ${printed.rows.length} rows`)
    expect(text.stdout).toContain(decodeTokens(printed.rows[0].inputs))
    const past = gptw('batch', '--run', String(done.runId), '--step', '3')
    expect(past.status).toBe(2)
    expect(past.stderr).toContain('past its end')
  }, 300_000)
})
