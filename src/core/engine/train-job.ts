// The train job: picks the backend, loads the token shards, builds or resumes the model, starts
// data-parallel peers when the config names several devices, and runs the trainer, saving
// checkpoints on rank 0. The same body runs on every rank; only rank 0 reports and saves.
import fs from 'node:fs'
import path from 'node:path'
import { type DeviceFigures, deviceMetrics, deviceSpread } from '../../shared/device-figures'
import type { TrainWorkerParams } from '../../shared/jobs'
import { JobCancelled, type JobContext } from '../job-context'
import { trainMemoryProblem } from '../memory-admission'
import { readShard, readShardMeta } from '../data/shards'
import type { AdamWSettings } from './adamw'
import { type BackendName, initBackend } from './backend'
import { type TrainerStateFile } from './checkpoint'
import { loadTraining, saveTrainingCheckpoint } from './checkpoint-tf'
import { GPT, initParams } from './model'
import { type PeerGroup, deviceEnv, peersDone, startPeers } from './parallel/peers'
import type { Ring } from './parallel/ring'
import { Trainer, type TrainerState } from './trainer'

export async function trainJob(params: TrainWorkerParams, ctx: JobContext, script: string, rank = 0, ring: Ring | null = null): Promise<unknown> {
  const { config } = params
  Object.assign(process.env, deviceEnv(config.devices[rank]))
  const backend = await initBackend(config.backend === 'auto' ? 'auto' : (config.backend as BackendName))
  if (rank === 0) ctx.report({ type: 'backend', name: backend.name, detail: backend.detail })

  const meta = readShardMeta(params.datasetDir)
  const train = readShard(params.datasetDir, 'train')
  const val = meta.splits.val ? readShard(params.datasetDir, 'val') : null
  if (rank === 0) ctx.log(`Dataset ${params.datasetDir}: ${train.length} train tokens${val ? `, ${val.length} validation tokens` : ', no validation split'}.`)

  // The worker caps itself (main checked too, but an in-process run or a host that filled up since has not): rank 0 speaks for all CPU workers of this host.
  if (rank === 0) {
    const problem = trainMemoryProblem(config)
    if (problem) throw new Error(problem)
    if (config.memoryCheck !== false && config.devices.some((d) => d.startsWith('gpu:')))
      ctx.log("Memory check: GPU devices are checked in main against the PyTorch probe's total GPU memory only; free GPU memory is not known here.")
  }

  const settings: AdamWSettings = { beta1: config.optimizer.beta1, beta2: config.optimizer.beta2, eps: config.optimizer.eps, weightDecay: config.optimizer.weightDecay }
  let model: GPT
  let optimizer
  let state: TrainerStateFile | undefined
  if (params.resumeDir) {
    const loaded = loadTraining(params.resumeDir, { expect: config.model, settings })
    model = loaded.model
    optimizer = loaded.optimizer
    state = loaded.trainer
    if (!optimizer || !state) throw new Error(`${params.resumeDir} has no optimizer or trainer state: it cannot be resumed (it may be a model-only checkpoint).`)
    if (rank === 0) {
      ctx.log(`Resuming from ${params.resumeDir} at step ${state.step}.`)
      // Main keeps the run's metrics past this step until now: a checkpoint that fails to load loses nothing.
      ctx.report({ type: 'resumed', step: state.step })
    }
  } else {
    model = new GPT(config.model, initParams(config.model, config.seed))
  }

  let group: PeerGroup | null = null
  if (rank === 0 && config.devices.length > 1) group = await startPeers(script, params, (t) => ctx.log(t))
  const activeRing = ring ?? group?.ring ?? null
  const checkpointsDir = path.join(params.runDir, 'checkpoints')
  let savedStep = state?.step ?? 0
  const save = async (s: TrainerState, valLoss: number | undefined): Promise<void> => {
    const dir = await saveTrainingCheckpoint(checkpointsDir, { model, optimizer: trainer.optimizer, trainer: { ...s }, step: s.step, keepLast: config.checkpoint.keepLast })
    ctx.report({ type: 'checkpoint', step: s.step, dir, bytes: folderBytes(dir), valLoss: valLoss ?? null })
    savedStep = s.step
  }
  // Per device: each rank's figures ride along with the step's gradient exchange; rank 0 stores them beside its own.
  const figures = activeRing ? deviceFigures(activeRing) : null
  // The job's progress line (the Jobs list's) ends with the spread over the devices.
  let spread: string | null = null
  const trainer = new Trainer({
    config,
    model,
    optimizer,
    state: state ? { step: state.step, rngState: state.rngState, tokensSeen: state.tokensSeen, elapsedSeconds: state.elapsedSeconds } : undefined,
    train,
    val,
    rank,
    worldSize: config.devices.length,
    allReduce: figures?.allReduce ?? null,
    ctx,
    onStep: (m) => {
      const { step, ...values } = m
      const own = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Record<string, number>
      const devices = figures?.take() ?? []
      ctx.metric(step, { ...own, ...deviceMetrics(devices) })
      spread = deviceSpread(devices)
    },
    progressSuffix: () => spread,
    onCheckpoint: save
  })
  try {
    figures?.start()
    const final = await (group ? Promise.race([trainer.run(), group.failed]) : trainer.run()).catch(stopping)
    if (activeRing) await checkReplicasAgree(model, activeRing, rank, (t) => ctx.log(t))
    if (group) await peersDone(group)
    return { runId: params.runId, steps: final.step, tokens: final.tokensSeen, seconds: final.elapsedSeconds, backend: backend.name }
  } finally {
    group?.stop()
  }

  /** A stop that asked for a checkpoint saves one at the current (completed) step before the job ends, and says how many steps that kept. */
  async function stopping(e: unknown): Promise<never> {
    if (!(e instanceof JobCancelled) || rank !== 0 || !ctx.stopWithCheckpoint) throw e
    const s = { ...trainer.state }
    if (s.step === savedStep) throw new JobCancelled(`Stopped at step ${s.step}, where the last checkpoint was saved: nothing to keep.`)
    const since = savedStep > 0 ? `the checkpoint at step ${savedStep}` : 'the start'
    const kept = s.step - savedStep
    await save(s, undefined)
    const note = `Stopped at step ${s.step}: saved a checkpoint there, keeping the ${kept} step${kept === 1 ? '' : 's'} since ${since}.`
    ctx.log(note)
    throw new JobCancelled(note)
  }
}

/**
 * The gradient all-reduce with this rank's figures gathered on the way: pid, resident memory now
 * and at peak (MB) and its step time outside the exchange (from the end of its last exchange to the
 * start of this one: data, forward, backward and the last optimizer step, plus rank 0's reporting),
 * where a slow worker shows; the exchange itself ends together on every rank.
 */
function deviceFigures(ring: Ring): { allReduce: (buf: Float32Array) => Promise<void>; start(): void; take(): DeviceFigures[] } {
  const mb = 1024 * 1024
  let since = performance.now()
  let gathered: DeviceFigures[] = []
  return {
    start() {
      since = performance.now()
    },
    async allReduce(buf) {
      const record = Float64Array.of(process.pid, process.memoryUsage.rss() / mb, (process.resourceUsage().maxRSS * 1024) / mb, (performance.now() - since) / 1000)
      const all = await ring.allReduceGather(buf, record)
      since = performance.now()
      gathered = all.map((r, rank) => ({ rank, pid: r[0], rssMb: r[1], peakRssMb: Math.max(r[1], r[2]), stepSeconds: r[3] }))
    },
    take() {
      const out = gathered
      gathered = []
      return out
    }
  }
}

/**
 * Data parallelism must keep every replica's parameters identical. Each worker hashes its
 * parameters' bytes; the hashes are all-reduced (as exact 16-bit halves) and compared.
 */
async function checkReplicasAgree(model: GPT, ring: Ring, rank: number, log: (text: string) => void): Promise<void> {
  let hash = 0x811c9dc5
  for (const v of model.params.values()) {
    const bytes = new Uint8Array((await v.data<'float32'>()).buffer)
    for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193) >>> 0
  }
  const slots = new Float32Array(2 * ring.worldSize)
  slots[2 * rank] = hash >>> 16
  slots[2 * rank + 1] = hash & 0xffff
  await ring.allReduce(slots)
  const hashes = Array.from({ length: ring.worldSize }, (_, r) => ((slots[2 * r] << 16) | slots[2 * r + 1]) >>> 0)
  if (new Set(hashes).size !== 1) throw new Error(`Data-parallel replicas diverged: parameter hashes ${hashes.map((h) => h.toString(16)).join(', ')}.`)
  if (rank === 0) log(`Parameters identical on all ${ring.worldSize} workers (hash ${hashes[0].toString(16)}).`)
}

function folderBytes(dir: string): number {
  return fs.readdirSync(dir).reduce((n, f) => n + fs.statSync(path.join(dir, f)).size, 0)
}
