// The dataset folder's manifest.json: the config, and for each stage its status, fingerprint,
// counts and outputs. Written atomically after every change, so a crash leaves the last state.
import fs from 'node:fs'
import path from 'node:path'
import { type DatasetManifest, PREPARE_STAGES, type PrepareConfig, type StageRecord } from '../../../shared/config/prepare'
import { writeJsonAtomic } from '../../durable-file'

export const MANIFEST_FILE = 'manifest.json'
export const SAMPLES_DIR = 'samples'

export function emptyStage(): StageRecord {
  return { status: 'pending', fingerprint: null, input: 0, kept: 0, dropped: {}, notes: {}, bytesIn: 0, bytesOut: 0, seconds: 0, startedAt: null, endedAt: null, outputs: [], live: null }
}

/** Reads the folder's manifest, or null when there is none (a new dataset). */
export function readManifest(dir: string): DatasetManifest | null {
  const file = path.join(dir, MANIFEST_FILE)
  if (!fs.existsSync(file)) return null
  try {
    const manifest = JSON.parse(fs.readFileSync(file, 'utf8')) as DatasetManifest
    if (manifest.format !== 'gptw-dataset-v1') throw new Error(`unknown format ${String(manifest.format)}`)
    return manifest
  } catch (err) {
    throw new Error(`The dataset manifest ${file} cannot be read (${(err as Error).message}). Move the folder aside or choose another dataset folder.`, { cause: err })
  }
}

export function openManifest(dir: string, config: PrepareConfig): DatasetManifest {
  const now = Date.now()
  const existing = readManifest(dir)
  const stages = Object.fromEntries(PREPARE_STAGES.map((s) => [s, { ...emptyStage(), ...existing?.stages[s], live: null }])) as DatasetManifest['stages']
  return {
    format: 'gptw-dataset-v1',
    name: config.name ?? existing?.name ?? path.basename(dir),
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
    config,
    stages,
    result: existing?.result ?? null
  }
}

export function saveManifest(dir: string, manifest: DatasetManifest): void {
  manifest.updatedAt = Date.now()
  writeJsonAtomic(path.join(dir, MANIFEST_FILE), manifest)
}
