// Checkpoints move between engines: one the embedded engine trained and saved loads in the
// PyTorch engine with the same loss, one the PyTorch engine saved loads in `gptw score` with the
// same loss (both score the same text, windowed the same way), and a PyTorch run resumed from
// its own checkpoint continues with the losses and weights of the uninterrupted run.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { END_OF_TEXT, encodeText } from '../../src/core/data/gpt2-tokenizer'
import { initBackend } from '../../src/core/engine/backend'
import { loadCheckpoint, MODEL_FILE } from '../../src/core/engine/checkpoint'
import { saveTrainingCheckpoint } from '../../src/core/engine/checkpoint-tf'
import { GPT, initParams } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { Trainer } from '../../src/core/engine/trainer'
import { inlineContext } from '../../src/core/job-context'
import { TrainConfig, type TrainConfigInput } from '../../src/shared/config/train'
import { MOBY_DICK, ROOT, tempDir } from '../helpers'
import { SLOW, describeTorch, makeDataset, python, relativeError, trainPython } from './helpers'

const CONFIG: TrainConfigInput = {
  model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
  batchSize: 4,
  steps: 3,
  optimizer: { lr: 3e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 0, keepLast: 5 },
  seed: 5
}

let dataset: string
let textFile: string
let idsFile: string

/** The loss `gptw score` (the embedded engine, through the CLI) gives the text under a checkpoint. */
function embeddedScore(checkpoint: string): number {
  const out = execFileSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'score', '--checkpoint', checkpoint, '--text', textFile, '--json'], {
    encoding: 'utf8',
    env: { ...process.env, GPTW_HOME: tempDir() }
  })
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { loss: number }).loss
}

/** The PyTorch engine's loss of the same token ids (end-of-text first, as score.ts), windowed as `gptw score` windows them. */
function torchScore(checkpoint: string): { loss: number; tokens: number } {
  return JSON.parse(python(['-m', 'gptw_torch', 'loss', '--checkpoint', checkpoint, '--ids', idsFile]).stdout)
}

describeTorch('checkpoints between the engines', () => {
  beforeAll(async () => {
    const dir = tempDir()
    dataset = makeDataset(path.join(dir, 'data'), 60_000).dir
    const text = fs.readFileSync(MOBY_DICK, 'utf8').slice(400_000, 402_500)
    textFile = path.join(dir, 'text.txt')
    fs.writeFileSync(textFile, text)
    idsFile = path.join(dir, 'ids.bin')
    fs.writeFileSync(idsFile, Buffer.from(Uint16Array.from([END_OF_TEXT, ...encodeText(text)]).buffer))
    await initBackend(loadNative().kernels ? 'native' : 'wasm')
  }, SLOW)

  it('a checkpoint the embedded engine trained and saved loads in PyTorch with the same loss', async () => {
    const config = TrainConfig.parse(CONFIG)
    const model = new GPT(config.model, initParams(config.model, config.seed))
    const data = path.join(dataset, 'train.bin')
    const train = new Uint16Array(fs.readFileSync(data).buffer.slice(0))
    const root = path.join(tempDir(), 'checkpoints')
    let dir = ''
    const trainer = new Trainer({
      config,
      model,
      train,
      val: null,
      ctx: inlineContext(),
      onCheckpoint: async (s) => {
        dir = await saveTrainingCheckpoint(root, { model, optimizer: trainer.optimizer, trainer: { ...s }, step: s.step, keepLast: 3 })
      }
    })
    await trainer.run()
    model.dispose()
    expect(path.basename(dir)).toBe('step-3')
    const torch = torchScore(dir)
    const embedded = embeddedScore(dir)
    expect(torch.tokens).toBeGreaterThan(400)
    expect(relativeError([torch.loss], [embedded])).toBeLessThan(1e-4)
    console.log(`embedded checkpoint: gptw score ${embedded}, PyTorch ${torch.loss}, relative difference ${relativeError([torch.loss], [embedded]).toExponential(2)}`)
  })

  it('a checkpoint the PyTorch engine saved loads in `gptw score` with the same loss and holds the tokenizer rows only', () => {
    const run = trainPython(tempDir(), CONFIG, dataset)
    expect(run.steps.map((s) => s.step)).toEqual([1, 2, 3])
    const dir = path.join(run.checkpoints, 'step-3')
    const file = readSafetensors(path.join(dir, MODEL_FILE))
    expect(file.metadata.format).toBe('pt')
    expect(file.tensors.get('wte.weight')!.shape).toEqual([50257, 32])
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).vocab_size).toBe(50257)
    // The embedded engine reads the optimizer state and trainer state too (so it can resume the run).
    const ckpt = loadCheckpoint(dir)
    expect(ckpt.optimizer!.step).toBe(3)
    expect(ckpt.optimizer!.m.get('wte.weight')!.shape).toEqual([50304, 32])
    expect(ckpt.trainer).toMatchObject({ step: 3, tokensSeen: 3 * 4 * 32 })
    const embedded = embeddedScore(dir)
    const torch = torchScore(dir)
    expect(relativeError([embedded], [torch.loss])).toBeLessThan(1e-4)
    console.log(`PyTorch checkpoint: gptw score ${embedded}, PyTorch ${torch.loss}, relative difference ${relativeError([embedded], [torch.loss]).toExponential(2)}`)
  })

  it('a resumed PyTorch run continues with the losses and weights of the uninterrupted one', () => {
    const config = { ...CONFIG, steps: 6, microBatches: 2, checkpoint: { interval: 3, keepLast: 5 }, eval: { interval: 3, batches: 2 }, schedule: { warmupSteps: 2 } }
    const whole = trainPython(tempDir(), config, dataset)
    const resumedDir = tempDir()
    const resumed = trainPython(resumedDir, config, dataset, ['--resume', path.join(whole.checkpoints, 'step-3')])
    expect(whole.steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6])
    expect(resumed.steps.map((s) => s.step)).toEqual([4, 5, 6])
    resumed.steps.forEach((s, i) => {
      const w = whole.steps[i + 3]
      expect(relativeError([s.loss], [w.loss])).toBeLessThan(1e-6)
      expect(s.lr).toBe(w.lr)
      expect(s.tokens).toBe(w.tokens)
    })
    expect(relativeError([resumed.steps[2].valLoss!], [whole.steps[5].valLoss!])).toBeLessThan(1e-6)
    const a = readSafetensors(path.join(whole.checkpoints, 'step-6', MODEL_FILE)).tensors
    const b = readSafetensors(path.join(resumed.checkpoints, 'step-6', MODEL_FILE)).tensors
    for (const [name, t] of a) expect(relativeError(b.get(name)!.data, t.data), name).toBeLessThan(1e-6)
    // The run trained: the weights moved from the checkpoint it resumed.
    const start = readSafetensors(path.join(whole.checkpoints, 'step-3', MODEL_FILE)).tensors
    expect(relativeError(a.get('h.0.attn.c_attn.weight')!.data, start.get('h.0.attn.c_attn.weight')!.data)).toBeGreaterThan(1e-4)
  })
})
