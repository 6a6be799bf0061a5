// Eval speed for `npm run bench`: loglikelihood requests per second of the bench preset's model
// (random weights; speed does not depend on them) on multiple-choice-shaped requests: a prompt of
// a few dozen to a few hundred characters of real prose and a continuation of a few words,
// scored through the same adapter the eval worker uses, batched by the preset's batch size.
import fs from 'node:fs'
import path from 'node:path'
import { type ModelConfig, ModelConfig as ModelConfigSchema } from '../../shared/config/model'
import type { LoglikelihoodRequest } from '../../shared/eval'
import { type BackendName, initBackend } from '../engine/backend'
import { GPT } from '../engine/model'
import { GPTLanguageModel } from './engine/gpt-model'

export interface EvalBenchResult {
  backend: string
  preset: string
  requests: number
  batch_size: number
  n_ctx: number
  seconds: number
  loglikelihood_requests_per_s: number
}

const PROSE = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way.`

/** Deterministic requests shaped like hellaswag / piqa ones: varied prompt lengths, 1-6 word continuations. */
export function benchRequests(count: number): LoglikelihoodRequest[] {
  const words = PROSE.split(' ')
  const cuts = words.length - 16
  if (count > cuts * 6) throw new Error(`benchRequests makes at most ${cuts * 6} distinct requests, asked for ${count}`)
  return Array.from({ length: count }, (_, i) => {
    // distinct (cut, length) pairs: the adapter scores duplicates once, which would flatter the rate
    const cut = 8 + (i % cuts)
    const len = 1 + (Math.floor(i / cuts) % 6)
    return { type: 'loglikelihood', context: words.slice(0, cut).join(' '), continuation: ' ' + words.slice(cut, cut + len).join(' ') }
  })
}

export async function evalBench(resourcesDir: string, options: { requests?: number; backend?: BackendName | 'auto' } = {}): Promise<EvalBenchResult> {
  const preset = JSON.parse(fs.readFileSync(path.join(resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: { model: unknown; batchSize: number } }
  const model: ModelConfig = ModelConfigSchema.parse(preset.config.model)
  const batchSize = preset.config.batchSize
  const backend = await initBackend(options.backend ?? 'auto')
  const gpt = new GPT(model)
  try {
    const lm = new GPTLanguageModel(gpt, { id: 'bench', batchSize })
    await lm.loglikelihood(benchRequests(batchSize)) // warm-up: kernels compiled, buffers allocated
    const requests = benchRequests(options.requests ?? 128)
    const t0 = process.hrtime.bigint()
    await lm.loglikelihood(requests)
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    return {
      backend: backend.name,
      preset: 'bench',
      requests: requests.length,
      batch_size: batchSize,
      n_ctx: model.nCtx,
      seconds: Number(seconds.toFixed(3)),
      loglikelihood_requests_per_s: Number((requests.length / seconds).toFixed(1))
    }
  } finally {
    gpt.dispose()
  }
}
