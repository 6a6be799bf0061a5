// Is this a checkpoint folder generation can load? (No tfjs here: main checks paths with it too.)
import fs from 'node:fs'
import path from 'node:path'
import { CONFIG_FILE, MODEL_FILE } from '../engine/checkpoint'

/** The folder's absolute path; throws a clear error unless it holds config.json and model.safetensors. */
export function checkCheckpointFolder(dir: string): string {
  const abs = path.resolve(dir)
  const what = 'Pick a checkpoint of a training run, or a Hugging Face GPT-2 folder with config.json and model.safetensors.'
  if (!fs.existsSync(abs)) throw new Error(`Checkpoint folder ${abs} does not exist. ${what}`)
  if (!fs.statSync(abs).isDirectory()) throw new Error(`${abs} is a file, not a checkpoint folder. ${what}`)
  const missing = [CONFIG_FILE, MODEL_FILE].filter((f) => !fs.existsSync(path.join(abs, f)))
  if (missing.length) throw new Error(`Checkpoint folder ${abs} has no ${missing.join(' and no ')}. ${what}`)
  return abs
}
