// A fresh PyTorch run's first weights, drawn here with the embedded engine's own initParams and
// handed to Python as an --init folder. Python can draw the same numbers (gptw_torch/init.py
// reproduces tfjs's generator operation for operation) but at about a second per million values in
// pure Python, minutes for GPT-2 small and once per rank; here it takes seconds, once per run.
import * as tf from '@tensorflow/tfjs'
import type { TrainConfig } from '../../../shared/config/train'
import { saveCheckpoint } from '../checkpoint'
import { toHost } from '../checkpoint-tf'
import { initParams } from '../model'

/** Writes the model-only checkpoint folder `dir` holding the weights the embedded engine starts `config` from. */
export async function writeInitialWeights(config: TrainConfig, dir: string): Promise<string> {
  // This worker trains nothing itself: tfjs's plain CPU backend holds the draws (the values come from
  // tfjs's seeded generator, the same on every backend).
  await tf.setBackend('cpu')
  const params = initParams(config.model, config.seed)
  try {
    saveCheckpoint(dir, { config: config.model, params: await toHost(params) })
  } finally {
    for (const p of params.values()) p.dispose()
  }
  return dir
}
