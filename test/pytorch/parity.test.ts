// Step-by-step parity of the two engines. Both start from one set of weights: the embedded
// engine initialises the model and saves it as a step-0 checkpoint, the PyTorch engine starts
// from that checkpoint (`--init`, a fresh optimizer, as any new run). Same config and seed, so
// the same batches (sampler.test.ts); dropout 0; warm-up then cosine decay, weight decay,
// clipping and two micro-batches per step: 20 losses equal within 1e-4 relative. Then a run
// moves between engines in both directions: each resumes the other's step-10 checkpoint
// (weights, AdamW moments, step and data position) and continues as the other did.
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { MODEL_FILE, saveCheckpoint } from '../../src/core/engine/checkpoint'
import { loadTraining, saveTrainingCheckpoint, snapshot } from '../../src/core/engine/checkpoint-tf'
import { GPT, initParams } from '../../src/core/engine/model'
import { loadNative } from '../../src/core/engine/native'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { type StepMetrics, Trainer } from '../../src/core/engine/trainer'
import { inlineContext } from '../../src/core/job-context'
import { TrainConfig, type TrainConfigInput } from '../../src/shared/config/train'
import { tempDir } from '../helpers'
import { SLOW, type StepRecord, describeTorch, makeDataset, python, relativeError, trainPython } from './helpers'

const TOLERANCE = 1e-4
const INPUT: TrainConfigInput = {
  model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32, dropout: 0 },
  batchSize: 4,
  microBatches: 2,
  steps: 20,
  optimizer: { lr: 3e-3, minLr: 3e-4, weightDecay: 0.1, gradClip: 1 },
  schedule: { decay: 'cosine', warmupSteps: 4 },
  eval: { interval: 10, batches: 2 },
  checkpoint: { interval: 10, keepLast: 5 },
  seed: 11
}
const config = TrainConfig.parse(INPUT)

let data: ReturnType<typeof makeDataset>
/** The first test's embedded run and its step-0 weights, for the second. */
let embeddedRun: StepMetrics[] = []
let step0Dir = ''

/** The embedded engine in-process: the Trainer the train job runs, checkpoints as the job saves them. */
async function trainEmbedded(root: string, start: { model: GPT; resume?: Awaited<ReturnType<typeof loadTraining>> }): Promise<StepMetrics[]> {
  const metrics: StepMetrics[] = []
  const { model } = start
  const trainer: Trainer = new Trainer({
    config,
    model,
    optimizer: start.resume?.optimizer,
    state: start.resume?.trainer
      ? { step: start.resume.trainer.step, rngState: start.resume.trainer.rngState, tokensSeen: start.resume.trainer.tokensSeen, elapsedSeconds: start.resume.trainer.elapsedSeconds }
      : undefined,
    train: data.train,
    val: data.val,
    ctx: inlineContext(),
    onStep: (m) => metrics.push(m),
    onCheckpoint: async (s) => {
      await saveTrainingCheckpoint(root, { model, optimizer: trainer.optimizer, trainer: { ...s }, step: s.step, keepLast: 5 })
    }
  })
  await trainer.run()
  trainer.optimizer.dispose()
  model.dispose()
  return metrics
}

/** Largest relative difference of the losses (and validation losses) of matching steps. */
function compare(a: StepMetrics[], b: StepRecord[]): { loss: number; valLoss: number; gradNorm: number } {
  expect(b.map((s) => s.step)).toEqual(a.map((s) => s.step))
  let loss = 0
  let valLoss = 0
  let gradNorm = 0
  a.forEach((m, i) => {
    expect(b[i].lr).toBeCloseTo(m.lr, 12)
    expect(b[i].tokens).toBe(m.tokens)
    loss = Math.max(loss, relativeError([b[i].loss], [m.loss]))
    gradNorm = Math.max(gradNorm, relativeError([b[i].gradNorm], [m.gradNorm]))
    expect(b[i].valLoss === undefined).toBe(m.valLoss === undefined)
    if (m.valLoss !== undefined) valLoss = Math.max(valLoss, relativeError([b[i].valLoss!], [m.valLoss]))
  })
  return { loss, valLoss, gradNorm }
}

function weightsError(a: string, b: string): number {
  const x = readSafetensors(path.join(a, MODEL_FILE)).tensors
  const y = readSafetensors(path.join(b, MODEL_FILE)).tensors
  return Math.max(...[...x].map(([name, t]) => relativeError(y.get(name)!.data, t.data)))
}

describeTorch('the PyTorch engine against the embedded engine, step by step', () => {
  beforeAll(async () => {
    data = makeDataset(tempDir(), 80_000)
    await initBackend(loadNative().kernels ? 'native' : 'wasm')
  }, SLOW)

  it('trains from the same weights to the same losses for 20 steps, and each engine resumes the other', async () => {
    const dir = tempDir()
    const model = new GPT(config.model, initParams(config.model, config.seed))
    const step0 = path.join(dir, 'step-0')
    saveCheckpoint(step0, await snapshot({ model }))
    const embeddedRoot = path.join(dir, 'embedded')
    const embedded = await trainEmbedded(embeddedRoot, { model })
    embeddedRun = embedded
    step0Dir = step0
    const torch = trainPython(path.join(dir, 'torch'), INPUT, data.dir, ['--init', step0])

    const parity = compare(embedded, torch.steps)
    console.log(
      `20 steps: max relative difference loss ${parity.loss.toExponential(2)}, val loss ${parity.valLoss.toExponential(2)}, grad norm ${parity.gradNorm.toExponential(2)}; losses ${embedded[0].loss.toFixed(4)} -> ${embedded[19].loss.toFixed(4)}`
    )
    expect(parity.loss).toBeLessThan(TOLERANCE)
    expect(parity.valLoss).toBeLessThan(TOLERANCE)
    expect(parity.gradNorm).toBeLessThan(1e-6)
    // Not vacuous: the model learned (the loss fell well past any tolerance).
    expect(embedded[19].loss).toBeLessThan(embedded[0].loss - 0.5)
    const weights20 = weightsError(path.join(embeddedRoot, 'step-20'), path.join(torch.checkpoints, 'step-20'))
    // Looser than the losses: AdamW divides by sqrt(v) + 1e-8, so embedding rows of tokens absent
    // from every batch (gradients ~1e-8, through the tied head only) amplify float32 rounding.
    console.log(`weights after 20 steps: max relative difference ${weights20.toExponential(2)}`)
    expect(weights20).toBeLessThan(1e-3)

    // PyTorch resumes the embedded engine's step-10 checkpoint: steps 11-20 as the embedded run.
    const resumedByTorch = trainPython(path.join(dir, 'torch-resumed'), INPUT, data.dir, ['--resume', path.join(embeddedRoot, 'step-10')])
    const a = compare(embedded.slice(10), resumedByTorch.steps)
    // The embedded engine resumes PyTorch's step-10 checkpoint: steps 11-20 as the PyTorch run.
    const loaded = loadTraining(path.join(torch.checkpoints, 'step-10'), { expect: config.model, settings: { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 } })
    expect(loaded.optimizer!.state.step).toBe(10)
    const resumedByEmbedded = await trainEmbedded(path.join(dir, 'embedded-resumed'), { model: loaded.model, resume: loaded })
    const b = compare(resumedByEmbedded, torch.steps.slice(10))
    console.log(`resumed across engines, steps 11-20: max relative loss difference ${a.loss.toExponential(2)} (PyTorch from embedded), ${b.loss.toExponential(2)} (embedded from PyTorch)`)
    expect(a.loss).toBeLessThan(TOLERANCE)
    expect(b.loss).toBeLessThan(TOLERANCE)
    expect(fs.existsSync(path.join(dir, 'embedded-resumed', 'step-20'))).toBe(true)
  })

  it("starts from the embedded engine's initial weights for the same seed, so a fresh run prints the same losses", () => {
    expect(embeddedRun).toHaveLength(20)
    // init.py reproduces tfjs's seeded Gaussian stream: the step-0 weights, compared bit for bit.
    const script = `
import sys, json, torch
from gptw_torch.checkpoint import load_checkpoint
from gptw_torch.init import embedded_init
from gptw_torch.model import GPT
ckpt = load_checkpoint(sys.argv[1], model_only=True)
model = GPT(ckpt.config)
embedded_init(model, ckpt.config.n_layer, ckpt.config.vocab_size, int(sys.argv[2]))
named = dict(model.named_parameters())
print(json.dumps({n: int((named[n] != t).sum()) for n, t in ckpt.params.items()}))
`
    const differing = JSON.parse(python(['-c', script, step0Dir, String(config.seed)]).stdout) as Record<string, number>
    expect(Object.keys(differing)).toHaveLength(2 + 12 * 2 + 2)
    expect(Object.entries(differing).filter(([, n]) => n !== 0)).toEqual([])
    const fresh = trainPython(tempDir(), INPUT, data.dir)
    const parity = compare(embeddedRun, fresh.steps)
    console.log(`fresh runs, same seed, 20 steps: max relative difference loss ${parity.loss.toExponential(2)}`)
    expect(parity.loss).toBeLessThan(TOLERANCE)
  })
})
