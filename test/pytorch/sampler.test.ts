// Both engines draw the same training batches in the same order: the embedded Trainer's
// micro-batches (src/core/engine/trainer.ts nextMicroBatches over batches.ts and the mulberry32
// generator) against python/gptw_torch/data.py's, compared token id by token id, for several
// seeds, world sizes, ranks and micro-batch counts. This is what makes losses comparable step by
// step and lets a run move between engines (the generator's state is the data position).
import { beforeAll, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { GPT, initParams } from '../../src/core/engine/model'
import { Trainer } from '../../src/core/engine/trainer'
import { inlineContext } from '../../src/core/job-context'
import { TrainConfig } from '../../src/shared/config/train'
import { tempDir } from '../helpers'
import { SLOW, describeTorch, makeDataset, python } from './helpers'

const STEPS = 6
const CASES = [
  { seed: 7, world: 1, micro: 1 },
  { seed: 7, world: 1, micro: 2 },
  { seed: 7, world: 2, micro: 1 },
  { seed: 2 ** 31 - 1, world: 4, micro: 2 },
  { seed: 0, world: 2, micro: 4 }
]
const BATCH = 8
const CTX = 16

const SCRIPT = `
import json, sys
from gptw_torch.data import Mulberry32, micro_batches, open_split
dataset, cases, steps, batch, ctx = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tokens = open_split(dataset, "train")
out = []
for c in cases:
    for rank in range(c["world"]):
        rng = Mulberry32(c["seed"])
        draws = []
        for _ in range(steps):
            for mb in micro_batches(tokens, batch, c["micro"], ctx, rng, rank, c["world"]):
                draws.append({"inputs": mb.inputs.reshape(-1).tolist(), "targets": mb.targets.reshape(-1).tolist()})
        out.append({"draws": draws})
print(json.dumps(out))
`

describeTorch('the batch sampler', () => {
  beforeAll(async () => {
    await initBackend('cpu')
  }, SLOW)

  it('draws the same token ids in the same order as the embedded trainer, per step, micro-batch and rank', async () => {
    const data = makeDataset(tempDir(), 40_000)
    const embedded: { draws: { inputs: number[]; targets: number[] }[] }[] = []
    // The batches do not depend on the model; the Trainer needs one.
    const shape = { nLayer: 1, nHead: 1, nEmbd: 8, nCtx: CTX, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }
    const model = new GPT(shape, initParams(shape, 1))
    for (const c of CASES) {
      const config = TrainConfig.parse({ model: model.config, batchSize: BATCH, microBatches: c.micro, steps: STEPS, seed: c.seed, devices: Array.from({ length: c.world }, (_, i) => `cpu:${i}`) })
      for (let rank = 0; rank < c.world; rank++) {
        const trainer = new Trainer({ config, model, train: data.train, val: null, rank, worldSize: c.world, ctx: inlineContext() })
        const draws = []
        for (let s = 0; s < STEPS; s++) for (const mb of trainer.nextMicroBatches()) draws.push({ inputs: [...mb.inputs], targets: [...mb.targets] })
        embedded.push({ draws })
        trainer.optimizer.dispose()
      }
    }
    model.dispose()
    const torch = JSON.parse(python(['-c', SCRIPT, data.dir, JSON.stringify(CASES), String(STEPS), String(BATCH), String(CTX)]).stdout) as typeof embedded
    expect(torch.length).toBe(embedded.length)
    let windows = 0
    embedded.forEach((e, i) => {
      expect(torch[i].draws.length).toBe(e.draws.length)
      e.draws.forEach((d, j) => {
        expect(torch[i].draws[j].inputs, `case ${i} draw ${j}`).toEqual(d.inputs)
        expect(torch[i].draws[j].targets, `case ${i} draw ${j}`).toEqual(d.targets)
        windows += d.inputs.length / CTX
      })
    })
    // Not vacuous: many windows, and they differ from each other.
    expect(windows).toBeGreaterThan(200)
    expect(embedded[0].draws[0].inputs).not.toEqual(embedded[0].draws[1].inputs)
  })
})
