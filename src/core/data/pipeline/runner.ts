// Runs the Webtext pipeline in a dataset folder, stage by stage. A stage whose inputs and settings
// are unchanged since it last finished (same fingerprint, outputs present) is skipped, so a
// rerun after a crash, a cancel or an edit resumes at the first stage that needs work. The
// manifest records each stage's counts and live progress; samples/<stage>.json its previews.
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { type DatasetManifest, PREPARE_STAGES, type PrepareConfig, type PrepareResult, STAGE_LABELS, type StageLive } from '../../../shared/config/prepare'
import type { JobContext } from '../../job-context'
import { cleanStage } from './clean'
import { dedupeStage } from './dedupe'
import { downloadStage } from './download'
import { extractStage } from './extract'
import { FILES } from './files'
import { writeJsonAtomic } from '../../durable-file'
import { AtomicJsonlWriter } from './jsonl'
import { SAMPLES_DIR, emptyStage, openManifest, saveManifest } from './manifest'
import { outputStage } from './output'
import { type StageDef, StageTally } from './stage'
import { sourcesStage } from './sources'
import { urlFilterStage } from './url-filter'

export const STAGES: readonly StageDef[] = [sourcesStage, urlFilterStage, downloadStage, extractStage, cleanStage, dedupeStage, outputStage]

const LIVE_SAVE_INTERVAL_MS = 500

export async function runPipeline(config: PrepareConfig, dir: string, job: JobContext): Promise<PrepareResult> {
  fs.mkdirSync(path.join(dir, SAMPLES_DIR), { recursive: true })
  const manifest = openManifest(dir, config)
  manifest.result = null
  saveManifest(dir, manifest)
  job.log(`Preparing "${manifest.name}" in ${dir}`)
  let upstream = ''
  for (const [index, stage] of STAGES.entries()) {
    const fingerprint = createHash('sha256')
      .update(upstream)
      .update(JSON.stringify(stage.fingerprint(config, dir)))
      .digest('hex')
      .slice(0, 24)
    upstream = fingerprint
    const previous = manifest.stages[stage.name]
    if (previous.status === 'done' && previous.fingerprint === fingerprint && previous.outputs.every((f) => fs.existsSync(path.join(dir, f)))) {
      job.log(`${STAGE_LABELS[stage.name]}: unchanged since the last run, reusing its output (${previous.kept} kept).`)
      continue
    }
    await runStage(stage, index, fingerprint, manifest, config, dir, job)
  }
  const result = readResult(dir, manifest)
  manifest.result = result
  saveManifest(dir, manifest)
  job.progress(
    1,
    1,
    `Done: ${result.documents} documents${
      result.tokensDir
        ? `, ${Object.entries(result.tokens)
            .map(([s, n]) => `${s} ${n} tokens`)
            .join(', ')}`
        : ''
    }`
  )
  return result
}

async function runStage(stage: StageDef, index: number, fingerprint: string, manifest: DatasetManifest, config: PrepareConfig, dir: string, job: JobContext): Promise<void> {
  const label = STAGE_LABELS[stage.name]
  const started = Date.now()
  const record = { ...emptyStage(), status: 'running' as const, fingerprint, startedAt: started }
  manifest.stages[stage.name] = record
  // Later stages depend on this one: mark them pending so the manifest never shows stale results as current.
  for (const later of PREPARE_STAGES.slice(index + 1)) if (manifest.stages[later].status !== 'pending') manifest.stages[later] = { ...manifest.stages[later], status: 'pending' }
  saveManifest(dir, manifest)
  let lastSave = 0
  fs.mkdirSync(path.join(dir, FILES.dropped), { recursive: true })
  const dropLog = new AtomicJsonlWriter(path.join(dir, FILES.dropped, `${stage.name}.jsonl`))
  const tally = new StageTally((live: StageLive) => {
    job.progress(index + (live.total > 0 ? Math.min(1, live.done / live.total) : 0), PREPARE_STAGES.length, `${label} (${index + 1}/${PREPARE_STAGES.length}): ${describeLive(live)}`)
    const now = Date.now()
    if (now - lastSave < LIVE_SAVE_INTERVAL_MS) return
    lastSave = now
    Object.assign(record, counts(tally), { live })
    saveManifest(dir, manifest)
  }, dropLog)
  job.progress(index, PREPARE_STAGES.length, `${label} (${index + 1}/${PREPARE_STAGES.length}): starting`)
  let outputs: string[]
  try {
    outputs = await stage.run({ dir, config, job, tally })
    dropLog.finish()
  } catch (err) {
    dropLog.abort()
    throw err
  }
  const ended = Date.now()
  Object.assign(record, counts(tally), { status: 'done', outputs: [...outputs, `${FILES.dropped}/${stage.name}.jsonl`], endedAt: ended, seconds: (ended - started) / 1000, live: null })
  writeJsonAtomic(path.join(dir, SAMPLES_DIR, `${stage.name}.json`), tally.samples)
  saveManifest(dir, manifest)
  const dropped = Object.entries(tally.dropped)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ')
  job.log(`${label}: ${tally.input} in, ${tally.kept} kept${dropped ? `, dropped: ${dropped}` : ''} (${record.seconds.toFixed(1)} s)`)
}

function counts(t: StageTally) {
  return { input: t.input, kept: t.kept, dropped: { ...t.dropped }, notes: { ...t.notes }, bytesIn: t.bytesIn, bytesOut: t.bytesOut }
}

export function describeLive(live: StageLive): string {
  const amount =
    live.unit === 'bytes'
      ? `${mb(live.done)} of ${mb(live.total)}`
      : `${live.done.toLocaleString('en-US')} of ${live.total.toLocaleString('en-US')} ${live.unit}${live.bytes ? ` (${mb(live.bytes)})` : ''}`
  const eta = live.etaSeconds === null ? '' : `, ETA ${formatSeconds(live.etaSeconds)}`
  return `${amount}, ${mb(live.rate)}/s${eta}`
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.ceil(s)} s`
  if (s < 5400) return `${Math.round(s / 60)} min`
  return `${(s / 3600).toFixed(1)} h`
}

function readResult(dir: string, manifest: DatasetManifest): PrepareResult {
  const out = manifest.stages.output
  const tokensDir = out.outputs.includes(FILES.tokens) ? path.join(dir, FILES.tokens) : null
  const tokens = Object.fromEntries(
    Object.entries(out.notes)
      .filter(([k]) => k.startsWith('tokens-'))
      .map(([k, v]) => [k.slice('tokens-'.length), v])
  )
  return { trainData: path.join(dir, FILES.trainData), tokensDir, documents: out.kept, tokens }
}
