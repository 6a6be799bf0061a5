// Reads an eval config file (JSON or YAML) for `gptw eval`: the EvalConfig schema, and the seed's
// eval.py keys too (checkpoint_path, task_list, num_fewshot, no_cache, BATCH_SIZE, output_path,
// description_dict_path), so an existing config needs no rewriting. Keys that only described the
// seed's model (model_type, SEQ_LEN, max_position_embeddings) are dropped: the checkpoint's
// config.json says what the model is.
import fs from 'node:fs'
import path from 'node:path'
import { describeZodError } from '../../shared/api'
import { EvalConfig } from '../../shared/config/eval'
import { readConfigFile } from './config-file'

const SEED_ALIASES: Record<string, string> = {
  checkpoint_path: 'checkpoints',
  checkpoint: 'checkpoints',
  task_list: 'tasks',
  num_fewshot: 'numFewshot',
  no_cache: 'noCache',
  BATCH_SIZE: 'batchSize',
  batch_size: 'batchSize',
  bootstrap_iters: 'bootstrapIters'
}
const SEED_MODEL_KEYS = ['model_type', 'SEQ_LEN', 'max_position_embeddings', 'from_torch']

export interface EvalConfigFile {
  config: EvalConfig
  /** Where the JSON results go (output / output_path in the file). */
  output: string | null
  /** Keys read but not used, to tell the user. */
  ignored: string[]
}

const list = (v: unknown): unknown =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v

export function parseEvalConfig(raw: unknown, file: string): EvalConfigFile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`Config file ${file} must hold an object with checkpoints and tasks.`)
  const obj: Record<string, unknown> = {}
  const ignored: string[] = []
  let output: string | null = null
  for (const [key, value] of Object.entries(raw)) {
    if (SEED_MODEL_KEYS.includes(key)) ignored.push(key)
    else if (key === 'output' || key === 'output_path') output = typeof value === 'string' && value ? value : null
    else if (key === 'description_dict_path') {
      if (typeof value === 'string' && value) obj.descriptions = readDescriptions(path.resolve(path.dirname(file), value))
    } else obj[SEED_ALIASES[key] ?? key] = key === 'checkpoint_path' || key === 'checkpoint' || key === 'checkpoints' || key === 'task_list' || key === 'tasks' ? [list(value)].flat() : value
  }
  const parsed = EvalConfig.safeParse(obj)
  if (!parsed.success) throw new Error(`Config file ${file}: ${describeZodError(parsed.error)}`)
  return { config: parsed.data, output, ignored }
}

export function readEvalConfig(file: string): EvalConfigFile {
  return parseEvalConfig(readConfigFile(file), file)
}

function readDescriptions(file: string): Record<string, string> {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>
  } catch (e) {
    throw new Error(`description_dict_path ${file} cannot be read as JSON: ${(e as Error).message.split('\n')[0]}`, { cause: e })
  }
}
