// The bridge between tfjs training objects (GPT, AdamW, trainer state) and checkpoint folders:
// copies tensors out to host arrays for saving and back into variables for loading or resume.
import * as tf from '@tensorflow/tfjs'
import type { ModelConfig } from '../../shared/config/model'
import { AdamW, type AdamWSettings } from './adamw'
import { type Checkpoint, type LoadOptions, type TrainerStateFile, checkpointDir, loadCheckpoint, pruneCheckpoints, saveCheckpoint } from './checkpoint'
import { GPT, type Params } from './model'
import type { HostTensor } from './safetensors'

export async function toHost(tensors: ReadonlyMap<string, tf.Tensor>): Promise<Map<string, HostTensor>> {
  const out = new Map<string, HostTensor>()
  for (const [name, t] of tensors) out.set(name, { shape: [...t.shape], data: (await t.data<'float32'>()).slice() })
  return out
}

/** Variables holding copies of the host tensors. Unnamed: tfjs names are unique per process, and two models may be loaded at once. */
export function toVariables(tensors: ReadonlyMap<string, HostTensor>, trainable: boolean): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>()
  for (const [name, t] of tensors)
    out.set(
      name,
      tf.tidy(() => tf.variable(tf.tensor(t.data, t.shape, 'float32'), trainable))
    )
  return out
}

export interface TrainingSnapshot {
  model: GPT
  optimizer?: AdamW
  trainer?: TrainerStateFile
}

/** Copies the model (and optimizer) off the backend into a checkpoint. */
export async function snapshot(s: TrainingSnapshot): Promise<Checkpoint> {
  const ckpt: Checkpoint = { config: s.model.config, params: await toHost(s.model.params) }
  if (s.optimizer) {
    const st = s.optimizer.state
    ckpt.optimizer = { step: st.step, m: await toHost(st.m), v: await toHost(st.v) }
  }
  if (s.trainer) ckpt.trainer = { ...s.trainer }
  return ckpt
}

/** Saves <root>/step-<trainer step> and prunes to the newest `keepLast` (plus `pinned`). Returns the folder. */
export async function saveTrainingCheckpoint(root: string, s: TrainingSnapshot & { step: number; keepLast: number; pinned?: number[] }): Promise<string> {
  const dir = checkpointDir(root, s.step)
  saveCheckpoint(dir, await snapshot(s))
  pruneCheckpoints(root, s.keepLast, s.pinned)
  return dir
}

export interface LoadedTraining {
  model: GPT
  optimizer?: AdamW
  trainer?: TrainerStateFile
  config: ModelConfig
}

/**
 * Loads a checkpoint folder into a GPT (and an AdamW with its moments when `settings` is given
 * and the folder has optimizer state). Real Hugging Face GPT-2 folders load too.
 */
export function loadTraining(dir: string, options: LoadOptions & { settings?: AdamWSettings } = {}): LoadedTraining {
  const ckpt = loadCheckpoint(dir, { ...options, modelOnly: options.modelOnly ?? !options.settings })
  const params: Params = toVariables(ckpt.params, true)
  const model = new GPT(ckpt.config, params)
  const out: LoadedTraining = { model, config: ckpt.config, trainer: ckpt.trainer }
  if (options.settings && ckpt.optimizer) {
    const o = ckpt.optimizer
    out.optimizer = new AdamW(options.settings, params, { step: o.step, m: toVariables(o.m, false), v: toVariables(o.v, false) })
  }
  return out
}
