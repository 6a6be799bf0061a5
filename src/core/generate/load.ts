// Loading a checkpoint for generation: a run's checkpoint folder or a Hugging Face GPT-2 folder
// (config.json + model.safetensors), with an error that says what is missing and what to pick.
import * as tf from '@tensorflow/tfjs'
import type { LoadedModelInfo } from '../../shared/generate'
import { parameterCount } from '../../shared/config/model'
import { loadTraining } from '../engine/checkpoint-tf'
import type { GPT } from '../engine/model'
import { checkCheckpointFolder } from './checkpoint-folder'

export function loadForGeneration(dir: string): GPT {
  return loadTraining(checkCheckpointFolder(dir), { modelOnly: true }).model
}

/** The loaded model's shape and the bytes its weights take (the embedded engine holds them in float32). */
export function describeModel(model: GPT, backend: string): LoadedModelInfo {
  const c = model.config
  let weightBytes = 0
  for (const v of model.params.values()) weightBytes += v.size * tf.util.bytesPerElement(v.dtype)
  return { nLayer: c.nLayer, nHead: c.nHead, nEmbd: c.nEmbd, nCtx: c.nCtx, vocabSize: c.vocabSize, parameters: parameterCount(c), backend, weightBytes }
}
