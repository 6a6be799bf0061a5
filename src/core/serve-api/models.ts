// The checkpoints an API server serves: each loaded once, with its own batching generator, under an
// id made from its run and step (".../<run>/checkpoints/step-N" -> "<run>-step-N"; any other
// folder by its name), made unique when two folders would share one.
import fs from 'node:fs'
import path from 'node:path'
import type { ModelConfig } from '../../shared/config/model'
import type { GPT } from '../engine/model'
import { BatchGenerator, type BatchGeneratorOptions } from '../generate/batch-generator'
import { loadForGeneration } from '../generate/load'

/** What the API asks of a model's generator: BatchGenerator over a loaded GPT, or the PyTorch engine's (torch-backend.ts). */
export type ServingGenerator = Pick<BatchGenerator, 'maxQueue' | 'load' | 'canTake' | 'submit' | 'close'> & { readonly model: { readonly config: ModelConfig; dispose(): void } }

export interface ServedModel<G extends ServingGenerator = BatchGenerator> {
  id: string
  /** The checkpoint folder (absolute). */
  dir: string
  /** Seconds since the epoch: when the checkpoint was written. */
  created: number
  generator: G
}

/** A served model whichever engine generates (what server.ts takes). */
export type AnyServedModel = ServedModel<ServingGenerator>

/** "<run>-step-N" for a run's checkpoint, else the folder's name. */
export function modelId(dir: string): string {
  const abs = path.resolve(dir)
  const step = /^step-(\d+)$/.exec(path.basename(abs))
  const parent = path.dirname(abs)
  if (step && path.basename(parent) === 'checkpoints') return `${path.basename(path.dirname(parent))}-step-${Number(step[1])}`
  return path.basename(abs)
}

/** Ids for the folders, in order, the second of a pair getting "-2" and so on. */
export function uniqueIds(dirs: string[]): string[] {
  const seen = new Map<string, number>()
  return dirs.map((d) => {
    const id = modelId(d)
    const n = (seen.get(id) ?? 0) + 1
    seen.set(id, n)
    return n === 1 ? id : `${id}-${n}`
  })
}

/** A model already loaded (the app's Generate view), served under `id`. */
export function serveLoaded(model: GPT, id: string, dir: string, options: BatchGeneratorOptions = {}): ServedModel {
  const created = Math.floor((fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) / 1000)
  return { id, dir: path.resolve(dir), created, generator: new BatchGenerator(model, options) }
}

/** Loads each checkpoint folder (the backend must be initialised) and gives it a generator. */
export function loadServedModels(dirs: string[], options: BatchGeneratorOptions = {}): ServedModel[] {
  const ids = uniqueIds(dirs)
  const served: ServedModel[] = []
  try {
    for (const [i, dir] of dirs.entries()) served.push(serveLoaded(loadForGeneration(dir), ids[i], dir, options))
  } catch (err) {
    for (const s of served) s.generator.model.dispose()
    throw err
  }
  return served
}

/** Stops each model's generator and frees its weights. */
export async function unloadServedModels(served: ServedModel[]): Promise<void> {
  for (const s of served) {
    await s.generator.close()
    s.generator.model.dispose()
  }
}
