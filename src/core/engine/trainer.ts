// The training loop: batches from the train shard, gradients (micro-batches, all-reduce, clip),
// AdamW with the schedule, validation loss, checkpoints, and one metric record per step.
// Pause and cancel are honoured between steps through the job context.
import * as tf from '@tensorflow/tfjs'
import type { TrainConfig } from '../../shared/config/train'
import type { JobContext } from '../job-context'
import { AdamW } from './adamw'
import { type Batch, sampleBatch, sequentialBatches } from './batches'
import type { GPT } from './model'
import { Rng } from '../rng'
import { learningRate } from './schedule'
import { type AllReduce, computeGradients } from './train-step'

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
  /** Called at checkpoint steps (and at the end) on rank 0 only. */
  onCheckpoint?: (state: TrainerState, valLoss: number | undefined) => Promise<void>
}

export class Trainer {
  readonly optimizer: AdamW
  readonly state: TrainerState
  private readonly rng: Rng

  constructor(private readonly o: TrainerOptions) {
    const c = o.config.optimizer
    this.optimizer = o.optimizer ?? new AdamW({ beta1: c.beta1, beta2: c.beta2, eps: c.eps, weightDecay: c.weightDecay }, o.model.params)
    this.state = o.state ?? { step: 0, rngState: o.config.seed, tokensSeen: 0, elapsedSeconds: 0 }
    this.rng = new Rng(this.state.rngState)
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
    const micro = this.nextMicroBatches()
    const { grads, loss, gradNorm } = await computeGradients(model, micro, this.o.worldSize ?? 1, this.o.allReduce ?? null, cfg.optimizer.gradClip)
    this.optimizer.apply(model.params, grads, lr)
    tf.dispose([...grads.values()])
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    const tokens = cfg.batchSize * cfg.model.nCtx
    this.state.step++
    this.state.rngState = this.rng.state
    this.state.tokensSeen += tokens
    this.state.elapsedSeconds += seconds
    if (!Number.isFinite(loss)) throw new Error(`The loss became ${loss} at step ${this.state.step}: lower the learning rate (optimizer.lr) or enable gradient clipping.`)
    return { step: this.state.step, loss, lr, gradNorm, tokensPerSec: tokens / seconds, tokens: this.state.tokensSeen, elapsed: this.state.elapsedSeconds }
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
    while (this.state.step < cfg.steps) {
      await ctx.pausePoint()
      const m = await this.step()
      const last = this.state.step === cfg.steps
      if (cfg.eval.interval > 0 && (this.state.step % cfg.eval.interval === 0 || last)) m.valLoss = await this.validationLoss()
      if (rank === 0) {
        this.o.onStep?.(m)
        ctx.progress(this.state.step, cfg.steps, progressLine(m, cfg.steps))
        const due = cfg.checkpoint.interval > 0 && this.state.step % cfg.checkpoint.interval === 0
        if ((due || last) && this.o.onCheckpoint) await this.o.onCheckpoint({ ...this.state }, m.valLoss)
      }
    }
    return this.state
  }
}

/** The fixed, greppable progress line (nanoGPT style). */
export function progressLine(m: StepMetrics, total: number): string {
  const eta = m.step < total ? ` | eta ${formatSeconds(((total - m.step) * m.elapsed) / m.step)}` : ''
  const val = m.valLoss !== undefined ? ` | val ${m.valLoss.toFixed(4)}` : ''
  return `step ${m.step}/${total} | loss ${m.loss.toFixed(4)}${val} | lr ${m.lr.toExponential(2)} | norm ${m.gradNorm.toFixed(2)} | tok/s ${m.tokensPerSec.toFixed(0)}${eta}`
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.round(s)}s`
  if (s < 5400) return `${Math.round(s / 60)}m`
  return `${(s / 3600).toFixed(1)}h`
}
