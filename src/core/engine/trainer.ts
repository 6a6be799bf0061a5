// The training loop: batches from the train shard, gradients (micro-batches, all-reduce, clip),
// AdamW with the schedule, validation loss, checkpoints, and one metric record per step.
// Pause and cancel are honoured between steps through the job context.
import * as tf from '@tensorflow/tfjs'
import type { TrainConfig } from '../../shared/config/train'
import type { JobContext } from '../job-context'
import { AdamW } from './adamw'
import { type Batch, sampleBatch, sequentialBatches } from './batches'
import { runPeak } from './device-peak'
import type { GPT } from './model'
import { Rng } from '../rng'
import { learningRate } from './schedule'
import { type AllReduce, computeGradients } from './train-step'
import { type DevicePeak, modelTflops } from '../../shared/throughput'

export interface TrainerState {
  step: number
  rngState: number
  tokensSeen: number
  elapsedSeconds: number
}

export interface StepMetrics {
  step: number
  loss: number
  lr: number
  gradNorm: number
  tokensPerSec: number
  tokens: number
  elapsed: number
  valLoss?: number
  /** Model TFLOP/s (PaLM's 6N + 12·L·T·C per token, src/shared/throughput.ts) and its share of the devices' peak (absent where the peak is unknown). */
  tflops?: number
  mfu?: number
  peakTflops?: number
  /** The step's wall time split: forward + backward (all micro-batches), optimizer, batch sampling, gradient all-reduce (data parallel only). */
  fwdBwdMs?: number
  optimizerMs?: number
  dataMs?: number
  allReduceMs?: number
  /** This worker's resident memory now and at its peak. */
  rssMb?: number
  peakRssMb?: number
  /** Seconds to the last step at the run's mean step time so far. */
  etaSeconds?: number
}

export interface TrainerOptions {
  config: TrainConfig
  model: GPT
  optimizer?: AdamW
  state?: TrainerState
  train: Uint16Array
  val: Uint16Array | null
  rank?: number
  worldSize?: number
  allReduce?: AllReduce | null
  ctx: JobContext
  onStep?: (m: StepMetrics) => void
  /** Rank 0, each step after onStep: text that ends the step's progress line (a data-parallel run's spread over its devices). */
  progressSuffix?: () => string | null
  /** Called at checkpoint steps (and at the end) on rank 0 only. */
  onCheckpoint?: (state: TrainerState, valLoss: number | undefined) => Promise<void>
}

export class Trainer {
  readonly optimizer: AdamW
  readonly state: TrainerState
  private readonly rng: Rng
  /** The devices' peak for MFU (null for a GPU part the table does not know). */
  private readonly peak: DevicePeak | null

  constructor(private readonly o: TrainerOptions) {
    const c = o.config.optimizer
    this.optimizer = o.optimizer ?? new AdamW({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }, o.model.params)
    this.state = o.state ?? { step: 0, rngState: o.config.seed, tokensSeen: 0, elapsedSeconds: 0 }
    this.rng = new Rng(this.state.rngState)
    this.peak = runPeak(o.config.devices)
  }

  /** This worker's micro-batches for the next step: every worker draws the same global batch and keeps its slice. */
  nextMicroBatches(): Batch[] {
    const { batchSize, microBatches, model } = this.o.config
    const rank = this.o.rank ?? 0
    const world = this.o.worldSize ?? 1
    const global = sampleBatch(this.o.train, batchSize, model.nCtx, this.rng)
    const perWorker = batchSize / world
    const perMicro = perWorker / microBatches
    const T = model.nCtx
    return Array.from({ length: microBatches }, (_, m) => {
      const first = rank * perWorker + m * perMicro
      return {
        inputs: global.inputs.subarray(first * T, (first + perMicro) * T),
        targets: global.targets.subarray(first * T, (first + perMicro) * T),
        batch: perMicro,
        seq: T
      }
    })
  }

  async step(): Promise<StepMetrics> {
    const { config: cfg, model } = this.o
    const started = process.hrtime.bigint()
    const lr = learningRate(this.state.step, {
      lr: cfg.optimizer.lr,
      minLr: cfg.optimizer.minLr,
      warmupSteps: cfg.schedule.warmupSteps,
      totalSteps: cfg.steps,
      decay: cfg.schedule.decay
    })
    const ms = (from: bigint): number => Number(process.hrtime.bigint() - from) / 1e6
    const micro = this.nextMicroBatches()
    const dataMs = ms(started)
    let allReduceMs = 0
    const inner = this.o.allReduce ?? null
    const allReduce: AllReduce | null = inner
      ? async (buf) => {
          const t = process.hrtime.bigint()
          await inner(buf)
          allReduceMs += ms(t)
        }
      : null
    const fwdStart = process.hrtime.bigint()
    const { grads, loss, gradNorm } = await computeGradients(model, micro, this.o.worldSize ?? 1, allReduce, cfg.optimizer.gradClip, cfg.activationCheckpointing ?? false)
    const fwdBwdMs = ms(fwdStart) - allReduceMs
    const optStart = process.hrtime.bigint()
    this.optimizer.apply(model.params, grads, lr)
    tf.dispose([...grads.values()])
    const optimizerMs = ms(optStart)
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const tokens = cfg.batchSize * cfg.model.nCtx
    this.state.step++
    this.state.rngState = this.rng.state
    this.state.tokensSeen += tokens
    this.state.elapsedSeconds += seconds
    if (!Number.isFinite(loss)) throw new Error(`The loss became ${loss} at step ${this.state.step}: lower the learning rate (optimizer.lr) or enable gradient clipping.`)
    const tokensPerSec = tokens / seconds
    const tflops = modelTflops(cfg.model, tokensPerSec)
    const mb = 1024 * 1024
    return {
      step: this.state.step,
      loss,
      lr,
      gradNorm,
      tokensPerSec,
      tokens: this.state.tokensSeen,
      elapsed: this.state.elapsedSeconds,
      tflops,
      ...(this.peak ? { mfu: tflops / this.peak.tflops, peakTflops: this.peak.tflops } : {}),
      fwdBwdMs,
      optimizerMs,
      dataMs,
      ...(inner ? { allReduceMs } : {}),
      rssMb: process.memoryUsage.rss() / mb,
      peakRssMb: (process.resourceUsage().maxRSS * 1024) / mb,
      etaSeconds: ((cfg.steps - this.state.step) * this.state.elapsedSeconds) / this.state.step
    }
  }

  /** Mean loss over up to `batches` consecutive windows of the validation shard. */
  async validationLoss(): Promise<number | undefined> {
    const { val, model, config } = this.o
    if (!val || val.length < config.model.nCtx + 1) return undefined
    let sum = 0
    let count = 0
    for (const b of sequentialBatches(val, Math.max(1, config.batchSize / (this.o.worldSize ?? 1)), config.model.nCtx, config.eval.batches)) {
      const loss = tf.tidy(() => model.loss(tf.tensor2d(b.inputs, [b.batch, b.seq], 'int32'), tf.tensor2d(b.targets, [b.batch, b.seq], 'int32')))
      sum += (await loss.data())[0] * b.batch
      count += b.batch
      loss.dispose()
    }
    return count ? sum / count : undefined
  }

  /** Runs until config.steps, reporting each step; checkpoints on rank 0. */
  async run(): Promise<TrainerState> {
    const { config: cfg, ctx } = this.o
    const rank = this.o.rank ?? 0
    if (rank === 0) ctx.log(this.peak ? `MFU against ${this.peak.derivation}` : 'MFU: the peak of this GPU is not known (src/shared/throughput.ts GPU_PEAKS); TFLOP/s only.')
    while (this.state.step < cfg.steps) {
      await ctx.pausePoint()
      const m = await this.step()
      const last = this.state.step === cfg.steps
      if (cfg.eval.interval > 0 && (this.state.step % cfg.eval.interval === 0 || last)) m.valLoss = await this.validationLoss()
      if (rank === 0) {
        this.o.onStep?.(m)
        ctx.progress(this.state.step, cfg.steps, progressLine(m, cfg.steps, this.o.progressSuffix?.()))
        const due = cfg.checkpoint.interval > 0 && this.state.step % cfg.checkpoint.interval === 0
        if ((due || last) && this.o.onCheckpoint) await this.o.onCheckpoint({ ...this.state }, m.valLoss)
      }
    }
    return this.state
  }
}

/** The fixed, greppable progress line (nanoGPT style); a data-parallel run's ends with its devices' spread (device-figures.ts deviceSpread). */
export function progressLine(m: StepMetrics, total: number, devices?: string | null): string {
  const eta = m.step < total ? ` | eta ${formatSeconds(m.etaSeconds ?? ((total - m.step) * m.elapsed) / m.step)}` : ''
  const val = m.valLoss !== undefined ? ` | val ${m.valLoss.toFixed(4)}` : ''
  const flops = m.tflops !== undefined ? ` | ${formatTflops(m.tflops)}${m.mfu !== undefined ? ` mfu ${(m.mfu * 100).toFixed(1)}%` : ''}` : ''
  const split =
    m.fwdBwdMs !== undefined
      ? ` | fwd+bwd ${m.fwdBwdMs.toFixed(0)}ms opt ${(m.optimizerMs ?? 0).toFixed(0)}ms data ${(m.dataMs ?? 0).toFixed(1)}ms${m.allReduceMs !== undefined ? ` allreduce ${m.allReduceMs.toFixed(0)}ms` : ''}`
      : ''
  const rss = m.rssMb !== undefined ? ` | rss ${m.rssMb.toFixed(0)}/${(m.peakRssMb ?? m.rssMb).toFixed(0)} MB` : ''
  return `step ${m.step}/${total} | loss ${m.loss.toFixed(4)}${val} | lr ${m.lr.toExponential(2)} | norm ${m.gradNorm.toFixed(2)} | tok/s ${m.tokensPerSec.toFixed(0)}${flops}${split}${rss}${eta}${devices ? ` | ${devices}` : ''}`
}

/** TFLOP/s below 1 in GFLOP/s, so CPU runs read as numbers. */
function formatTflops(t: number): string {
  return t >= 1 ? `${t.toFixed(2)} TFLOP/s` : `${(t * 1000).toFixed(1)} GFLOP/s`
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)}s`
  if (s < 5400) return `${Math.round(s / 60)}m`
  return `${(s / 3600).toFixed(1)}h`
}
