// A GPT-2-vocabulary checkpoint with random weights, saved the way training saves one: enough for
// the generation plumbing (workers, API, CLI) where what the model learned does not matter.
import path from 'node:path'
import type { ModelConfig } from '../../src/shared/config/model'
import { saveCheckpoint } from '../../src/core/engine/checkpoint'
import { toHost } from '../../src/core/engine/checkpoint-tf'
import { GPT, initParams } from '../../src/core/engine/model'

export const SMALL_GPT2: ModelConfig = { nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 16, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }

export async function randomCheckpoint(root: string, name: string, seed: number, config: ModelConfig = SMALL_GPT2): Promise<string> {
  const model = new GPT(config, initParams(config, seed))
  const dir = path.join(root, name)
  saveCheckpoint(dir, { config, params: await toHost(model.params) })
  model.dispose()
  return dir
}
