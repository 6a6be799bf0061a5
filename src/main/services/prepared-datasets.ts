// Prepared (Webtext) datasets: resolving a `prepare` job's config against the workspace before
// its worker starts, and reading the dataset folders' manifests, previews and duplicate reports
// for the Data wizard. The folders are the record; nothing here writes to them.
import fs from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../shared/api'
import { type DatasetDetail, type DatasetManifest, type DatasetSummary, type DuplicateReport, PREPARE_STAGES, type PrepareParams, type StageSamples } from '../../shared/config/prepare'

const MANIFEST = 'manifest.json'
const DATASET_ID = /^[A-Za-z0-9._-]+$/

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'webtext'
  )
}

/** Makes every source path absolute and checks it exists; picks the dataset folder. */
export function resolvePrepareParams(params: PrepareParams, datasetsDir: string, baseDir = process.cwd()): Required<PrepareParams> {
  const resolveAll = (key: 'urlFiles' | 'htmlDirs' | 'jsonFiles'): string[] =>
    params.config.sources[key].map((p) => {
      const abs = path.resolve(baseDir, p)
      if (!fs.existsSync(abs)) throw new ApiError('bad_input', `Source ${abs} (sources.${key}) does not exist. Check the path or remove it.`)
      return abs
    })
  const sources = { ...params.config.sources, urlFiles: resolveAll('urlFiles'), htmlDirs: resolveAll('htmlDirs'), jsonFiles: resolveAll('jsonFiles') }
  const name = params.config.name ?? 'webtext'
  const datasetDir = params.datasetDir ? path.resolve(baseDir, params.datasetDir) : path.join(datasetsDir, `${slug(name)}-${Date.now().toString(36)}`)
  if (fs.existsSync(datasetDir) && !fs.statSync(datasetDir).isDirectory()) throw new ApiError('bad_input', `Dataset folder ${datasetDir} is a file. Choose a folder.`)
  return { config: { ...params.config, name, sources }, datasetDir }
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T
  } catch {
    return null
  }
}

function summarize(id: string, dir: string, manifest: DatasetManifest): DatasetSummary {
  return {
    id,
    name: manifest.name,
    dir,
    createdAt: manifest.createdAt,
    updatedAt: manifest.updatedAt,
    state: manifest.result ? 'done' : 'incomplete',
    documents: manifest.result?.documents ?? null,
    tokensDir: manifest.result?.tokensDir ?? null,
    tokens: manifest.result?.tokens ?? {}
  }
}

/** Every folder under the datasets folder that holds a prepared dataset, newest first. */
export function listPreparedDatasets(datasetsDir: string): DatasetSummary[] {
  if (!fs.existsSync(datasetsDir)) return []
  return fs
    .readdirSync(datasetsDir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && DATASET_ID.test(e.name))
    .flatMap((e) => {
      const dir = path.join(datasetsDir, e.name)
      const manifest = readJson<DatasetManifest>(path.join(dir, MANIFEST))
      return manifest?.format === 'gptw-dataset-v1' ? [summarize(e.name, dir, manifest)] : []
    })
    .sort((a, b) => b.updatedAt - a.updatedAt)
}

export function readPreparedDataset(datasetsDir: string, id: string): DatasetDetail {
  if (!DATASET_ID.test(id)) throw new ApiError('bad_input', `"${id}" is not a dataset id (letters, digits, ".", "_" and "-" only).`)
  const dir = path.join(datasetsDir, id)
  const manifest = readJson<DatasetManifest>(path.join(dir, MANIFEST))
  if (manifest?.format !== 'gptw-dataset-v1') throw new ApiError('not_found', `Dataset ${id} does not exist in ${datasetsDir} (or its manifest.json is unreadable).`)
  const samples: DatasetDetail['samples'] = {}
  for (const stage of PREPARE_STAGES) {
    const s = readJson<StageSamples>(path.join(dir, 'samples', `${stage}.json`))
    if (s) samples[stage] = s
  }
  return { ...summarize(id, dir, manifest), manifest, samples, duplicates: readJson<DuplicateReport>(path.join(dir, 'duplicates.json')) }
}
