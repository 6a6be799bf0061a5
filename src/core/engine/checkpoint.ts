// Checkpoint folders: the model as model.safetensors (Hugging Face GPT-2 names, Conv1D [in, out]
// layout) + config.json (GPT2Config keys), so real GPT-2 weights load here and ours load in
// transformers; beside them optimizer.safetensors (AdamW moments) and trainer_state.json.
// Files hold exactly the tokenizer's rows of wte (and of its moments): the padding to a multiple
// of 64 is each engine's own affair, added on load and dropped on save. Older checkpoints that
// stored the padded rows still load.
// A folder is written under a temporary name and renamed whole, so `step-N` exists only complete.
// A run keeps its checkpoints as <root>/step-N; pruneCheckpoints keeps the last N plus pinned ones.
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { ModelConfig } from '../../shared/config/model'
import { commitDirectory, createTempDirectory, processRuns, writeFileAtomic, writeAll } from '../durable-file'
import { fromGPT2Config, toGPT2Config } from './hf-config'
import { parameterShapes } from './param-names'
import { type HostTensor, SafetensorsFile, readSafetensors, writeSafetensors } from './safetensors'

export const MODEL_FILE = 'model.safetensors'
export const CONFIG_FILE = 'config.json'
export const OPTIMIZER_FILE = 'optimizer.safetensors'
export const TRAINER_FILE = 'trainer_state.json'

/** AdamW's state: the step count and both moments per parameter (names as the model's). */
export interface OptimizerSnapshot {
  step: number
  m: Map<string, HostTensor>
  v: Map<string, HostTensor>
}

/** The trainer's resumable state; extra keys a newer trainer adds are kept as they are. */
export const TrainerStateFile = z.looseObject({
  step: z.number().int().nonnegative(),
  rngState: z.number().int().nonnegative(),
  tokensSeen: z.number().nonnegative(),
  elapsedSeconds: z.number().nonnegative()
})
export type TrainerStateFile = z.infer<typeof TrainerStateFile>

export interface Checkpoint {
  config: ModelConfig
  /** By our names (no `transformer.` prefix); wte has paddedVocab rows in memory, vocabSize rows on disk. */
  params: Map<string, HostTensor>
  optimizer?: OptimizerSnapshot
  trainer?: TrainerStateFile
}

/** Writes a checkpoint folder at `dir` (replacing one that is there), all or nothing. */
export function saveCheckpoint(dir: string, ckpt: Checkpoint): void {
  checkParams(ckpt.params, ckpt.config, `the model being saved to ${dir}`)
  // .step-N.tmp-<pid>-<random> beside the target: pruneCheckpoints knows from the pid whether its writer still runs.
  const tmp = createTempDirectory(path.resolve(dir))
  try {
    // "format: pt" is what transformers requires of a safetensors file's metadata to load it.
    const vocab = ckpt.config.vocabSize
    writeSafetensors(
      path.join(tmp, MODEL_FILE),
      [...ckpt.params].map(([name, t]) => [name, realRows(name, t, vocab)]),
      { format: 'pt' }
    )
    writeJson(path.join(tmp, CONFIG_FILE), toGPT2Config(ckpt.config))
    if (ckpt.optimizer) {
      const o = ckpt.optimizer
      const tensors: [string, HostTensor][] = []
      for (const name of ckpt.params.keys()) {
        const m = o.m.get(name)
        const v = o.v.get(name)
        if (!m || !v) throw new Error(`Optimizer state has no moments for "${name}": cannot save ${dir}.`)
        tensors.push([`${name}.exp_avg`, realRows(name, m, vocab)], [`${name}.exp_avg_sq`, realRows(name, v, vocab)])
      }
      writeSafetensors(path.join(tmp, OPTIMIZER_FILE), tensors, { format: 'gptw-adamw-v1', step: String(o.step) })
    }
    if (ckpt.trainer) writeJson(path.join(tmp, TRAINER_FILE), TrainerStateFile.parse(ckpt.trainer))
    commitDirectory(tmp, path.resolve(dir))
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true })
    throw err
  }
}

export interface LoadOptions {
  /** The shape the caller needs (e.g. the run's config on resume); a checkpoint of another shape is an error. */
  expect?: ModelConfig
  /** Skip optimizer.safetensors (inference needs only the model). */
  modelOnly?: boolean
}

/** Reads a checkpoint folder: ours, or a Hugging Face GPT-2 folder (config.json + model.safetensors). */
export function loadCheckpoint(dir: string, options: LoadOptions = {}): Checkpoint {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such checkpoint folder.`)
  const configFile = path.join(dir, CONFIG_FILE)
  const config = fromGPT2Config(readJson(configFile), configFile)
  if (options.expect) checkSameShape(config, options.expect, configFile)
  const params = readModelWeights(path.join(dir, MODEL_FILE), config)
  const ckpt: Checkpoint = { config, params }
  const optFile = path.join(dir, OPTIMIZER_FILE)
  if (!options.modelOnly && fs.existsSync(optFile)) ckpt.optimizer = readOptimizer(optFile, params, config.vocabSize)
  const trainerFile = path.join(dir, TRAINER_FILE)
  if (fs.existsSync(trainerFile)) {
    const t = TrainerStateFile.safeParse(readJson(trainerFile))
    if (!t.success) throw new Error(`${trainerFile}: invalid trainer state: ${t.error.issues[0].path.join('.')}: ${t.error.issues[0].message}.`)
    ckpt.trainer = t.data
  }
  return ckpt
}

/** Attention-mask buffers that some GPT-2 files carry; they are not parameters. */
const BUFFER = /^h\.\d+\.attn\.(bias|masked_bias)$/

/**
 * The model tensors of a safetensors file under our names, checked against `config`.
 * Accepts names with or without `transformer.`, drops mask buffers and a tied `lm_head.weight`,
 * and pads an unpadded embedding (real GPT-2's 50,257 rows) with zero rows to paddedVocab.
 */
export function readModelWeights(file: string, config: ModelConfig): Map<string, HostTensor> {
  const expected = parameterShapes(config)
  const f = SafetensorsFile.open(file)
  try {
    const sources = new Map<string, string>()
    let lmHead: string | null = null
    for (const stored of f.names()) {
      const name = stored.startsWith('transformer.') ? stored.slice('transformer.'.length) : stored
      if (BUFFER.test(name)) continue
      if (name === 'lm_head.weight') {
        lmHead = stored
        continue
      }
      if (!expected.has(name)) throw new Error(`${file}: unexpected tensor "${stored}": it is not a parameter of a ${config.nLayer}-layer GPT-2 (see config.json).`)
      if (sources.has(name)) throw new Error(`${file}: tensor "${name}" appears twice ("${sources.get(name)}" and "${stored}").`)
      sources.set(name, stored)
    }
    const missing = [...expected.keys()].filter((n) => !sources.has(n))
    if (missing.length) throw new Error(`${file}: missing ${missing.length} tensor(s) a ${config.nLayer}-layer GPT-2 needs: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}.`)
    const params = new Map<string, HostTensor>()
    for (const [name, shape] of expected) {
      const stored = sources.get(name)!
      const found = f.info(stored).shape
      if (name === 'wte.weight' && found.length === 2 && found[0] === config.vocabSize && found[1] === shape[1] && shape[0] > found[0]) {
        params.set(name, padRows(f.read(stored), shape[0]))
        continue
      }
      if (!sameShape(found, shape)) throw shapeError(file, stored, shape, found)
      params.set(name, f.read(stored))
    }
    if (lmHead) checkTiedHead(f, lmHead, params.get('wte.weight')!, config.vocabSize)
    return params
  } finally {
    f.close()
  }
}

/** Complete checkpoints under a run's checkpoint root, oldest first. */
export function listCheckpoints(root: string): { step: number; dir: string }[] {
  if (!fs.existsSync(root)) return []
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && /^step-\d+$/.test(e.name))
    .map((e) => ({ step: Number(e.name.slice(5)), dir: path.join(root, e.name) }))
    .sort((a, b) => a.step - b.step)
}

export function checkpointDir(root: string, step: number): string {
  return path.join(root, `step-${step}`)
}

export function latestCheckpoint(root: string): { step: number; dir: string } | null {
  return listCheckpoints(root).at(-1) ?? null
}

/** Deletes all but the newest `keepLast` checkpoints (pinned steps stay), and leftovers of interrupted saves. */
export function pruneCheckpoints(root: string, keepLast: number, pinned: Iterable<number> = []): number[] {
  if (!Number.isInteger(keepLast) || keepLast < 1) throw new Error(`keepLast must be a whole number of at least 1 (got ${keepLast}).`)
  const keep = new Set(pinned)
  const all = listCheckpoints(root)
  const removed: number[] = []
  if (!fs.existsSync(root)) return removed
  for (const c of all.slice(0, Math.max(0, all.length - keepLast))) {
    if (keep.has(c.step)) continue
    fs.rmSync(c.dir, { recursive: true, force: true })
    removed.push(c.step)
  }
  // Leftovers of interrupted saves, but never a folder another process is still writing (a second job on the run, a save in flight).
  for (const e of fs.readdirSync(root)) {
    const leftover = /^\.step-\d+\.(tmp|old)-(\d+)-/.exec(e)
    if (leftover && !processRuns(Number(leftover[2]))) fs.rmSync(path.join(root, e), { recursive: true, force: true })
  }
  return removed
}

function readOptimizer(file: string, params: Map<string, HostTensor>, vocab: number): OptimizerSnapshot {
  const { tensors, metadata } = readSafetensors(file)
  if (metadata.format !== 'gptw-adamw-v1') throw new Error(`${file}: not an optimizer state written by this app (format "${metadata.format ?? 'missing'}").`)
  const step = Number(metadata.step)
  if (!Number.isInteger(step) || step < 0) throw new Error(`${file}: invalid optimizer step "${metadata.step}".`)
  const m = new Map<string, HostTensor>()
  const v = new Map<string, HostTensor>()
  for (const [name, p] of params) {
    for (const [suffix, into] of [
      ['exp_avg', m],
      ['exp_avg_sq', v]
    ] as const) {
      const t = tensors.get(`${name}.${suffix}`)
      if (!t) throw new Error(`${file}: missing tensor "${name}.${suffix}".`)
      if (name === 'wte.weight' && sameShape(t.shape, [vocab, p.shape[1]]) && p.shape[0] > vocab) {
        into.set(name, padRows(t, p.shape[0]))
        continue
      }
      if (!sameShape(t.shape, p.shape)) throw shapeError(file, `${name}.${suffix}`, p.shape, t.shape)
      into.set(name, t)
    }
  }
  if (tensors.size !== 2 * params.size) throw new Error(`${file}: holds ${tensors.size} tensors, expected ${2 * params.size} (two moments per parameter).`)
  return { step, m, v }
}

function checkParams(params: Map<string, HostTensor>, config: ModelConfig, what: string): void {
  const expected = parameterShapes(config)
  for (const [name, shape] of expected) {
    const t = params.get(name)
    if (!t) throw new Error(`${what} has no parameter "${name}".`)
    if (!sameShape(t.shape, shape)) throw shapeError(what, name, shape, t.shape)
  }
  for (const name of params.keys()) if (!expected.has(name)) throw new Error(`${what} has an unexpected parameter "${name}".`)
}

function checkSameShape(found: ModelConfig, want: ModelConfig, file: string): void {
  const keys = ['nLayer', 'nHead', 'nEmbd', 'nCtx', 'vocabSize'] as const
  const diff = keys.filter((k) => found[k] !== want[k])
  if (diff.length) {
    throw new Error(`${file}: the checkpoint's model does not match the config: ${diff.map((k) => `${k} is ${found[k]} in the checkpoint, ${want[k]} in the config`).join('; ')}.`)
  }
}

function checkTiedHead(f: SafetensorsFile, name: string, wte: HostTensor, vocab: number): void {
  const head = f.read(name)
  const cols = wte.shape[1]
  const rows = Math.min(head.shape[0], vocab)
  const same = head.shape.length === 2 && head.shape[1] === cols && head.shape[0] >= vocab && head.data.subarray(0, rows * cols).every((x, i) => x === wte.data[i])
  if (!same) throw new Error(`${f.path}: "${name}" differs from the token embedding; this engine ties the lm head to wte and cannot load an untied head.`)
}

/** The tokenizer's rows of wte (or of one of its moments): what a checkpoint file holds. */
function realRows(name: string, t: HostTensor, vocab: number): HostTensor {
  if (name !== 'wte.weight' || t.shape[0] <= vocab) return t
  return { shape: [vocab, t.shape[1]], data: t.data.subarray(0, vocab * t.shape[1]) }
}

function padRows(t: HostTensor, rows: number): HostTensor {
  const data = new Float32Array(rows * t.shape[1])
  data.set(t.data)
  return { shape: [rows, t.shape[1]], data }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i])
}

function shapeError(where: string, name: string, expected: readonly number[], found: readonly number[]): Error {
  return new Error(`${where}: tensor "${name}" has shape [${found.join(', ')}], expected [${expected.join(', ')}].`)
}

function readJson(file: string): unknown {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (err) {
    throw new Error(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, { cause: err })
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message}).`, { cause: err })
  }
}

function writeJson(file: string, value: unknown): void {
  writeFileAtomic(file, (fd) => writeAll(fd, Buffer.from(JSON.stringify(value, null, 2) + '\n')))
}
