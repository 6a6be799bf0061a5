// gptw bench (npm run bench): speed of the embedded engine beside PyTorch on the same model, as
// one JSON object. Each section runs in its own process so its peak RSS is its own:
//   train       tokens/s of the bench preset (random tokens)
//   generation  tokens/s at batch 1, 256 new tokens, with the KV cache and with full recompute
//   eval        loglikelihood requests/s through the eval adapter
//   eval-pytorch  the same requests through both engines' eval adapters on one checkpoint of the bench
//               model: embedded, and PyTorch model servers on the CPU in float32 (1 and 2 processes),
//               interleaved, with the ratios and the largest log-likelihood difference between them
//   generation-pytorch  served decoding on a PyTorch CPU model server: 8 greedy sequences at once (one
//               forward per step for all) beside one after another, on all threads and on one
// each on the chosen backend (auto: the fast path) and, as `<section>-stock`, on stock wasm;
//   data        MB/s of the Webtext pipeline stages on a fixed corpus
//   serve       the OpenAI-compatible API at 1, 4 and 16 concurrent clients: requests/s, tokens/s, p50 / p95 latency
//   train-gpt2-small  GPT-2 small's shape (12 x 768, context 1024, batch 1, random tokens): tokens/s,
//               first step and peak RSS without and with activation checkpointing (a process each),
//               and GPT-2 medium's (24 x 1024) peak RSS over 2 steps with checkpointing (memory only)
// PyTorch (Debian python3-torch) runs the same shapes when it is installed (tools/torch_train_bench.py,
// tools/torch_infer_bench.py); ratios are ours / its. `speed_goals` closes the JSON: issue 17's
// ratios from this run (GPT-2 small and the bench shape vs PyTorch, checkpointing's cost, first
// step vs steady) beside their goals. With --rounds N the sections and PyTorch run N times in turn
// (ours, PyTorch, ours, PyTorch, ...) and each part keeps its fastest run, its peak RSS the largest
// of them: on a shared machine the load drifts by more than the gaps the ratios are read for.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { parameterCount } from '../../shared/config/model'
import { TrainConfig } from '../../shared/config/train'
import { inlineContext } from '../../core/job-context'
import { encodeText, END_OF_TEXT } from '../../core/data/gpt2-tokenizer'
import { benchDataPipeline } from '../../core/data/pipeline/bench'
import { type BackendName, initBackend } from '../../core/engine/backend'
import { cpuPeakHere } from '../../core/engine/device-peak'
import { GPT } from '../../core/engine/model'
import { Trainer } from '../../core/engine/trainer'
import { benchRequests, evalBench } from '../../core/eval/bench'
import { evalEnginesBench } from '../../core/eval/bench-engines'
import { torchDecodeBench } from '../../core/engine/pytorch/decode-bench'
import { benchGeneration } from '../../core/generate/bench'
import { benchServe } from '../../core/serve-api/bench'
import { WORKER_ENV } from '../services/jobs/worker-env'
import { intFlag } from './args'
import { trainPyTorchSection } from './bench-pytorch'
import { randomTokens } from './bench-tokens'

/** This CPU's fp32 peak, probed as the app probes it (cores x lanes x FMA units x 2 x clock): the machines change from day to day. */
const CPU_PEAK = cpuPeakHere()
const PEAK_GFLOPS = CPU_PEAK.tflops * 1000
const SECTIONS = ['train', 'train-stock', 'train-pytorch', 'generation', 'generation-stock', 'eval', 'eval-stock', 'eval-pytorch', 'generation-pytorch', 'data', 'serve', 'train-gpt2-small'] as const
type Section = (typeof SECTIONS)[number]
/** A section, or one of the processes a section runs in. */
type Part = Section | 'train-gpt2-small-checkpointed' | 'train-gpt2-medium-checkpointed'
/** The processes a section runs in: train-gpt2-small measures each setting in its own, so each peak RSS is its own. */
const PARTS: Partial<Record<Section, Record<string, Part>>> = {
  'train-gpt2-small': { off: 'train-gpt2-small', checkpointed: 'train-gpt2-small-checkpointed', medium_checkpointed: 'train-gpt2-medium-checkpointed' }
}
/** GPT-2 small at batch 1: few steps (each takes seconds), the first one untimed but reported. */
const GPT2_SMALL = { model: { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024 }, batchSize: 1, maxSteps: 3 }
/** GPT-2 medium at batch 1 with checkpointing, for its peak RSS only (the 16 GB laptop): two steps, so the optimizer's moments exist and are used once. */
const GPT2_MEDIUM = { model: { nLayer: 24, nHead: 16, nEmbd: 1024, nCtx: 1024 }, batchSize: 1, steps: 2 }

/** The flags parseArgs accepts; src/main/cli/help.ts describes each but the internal --section and --torch (test/cli-help.test.ts checks they agree). */
export const OPTIONS = {
  steps: { type: 'string' },
  backend: { type: 'string' },
  section: { type: 'string' },
  torch: { type: 'string' },
  'no-torch': { type: 'boolean' },
  only: { type: 'string' },
  rounds: { type: 'string' }
} as const

export async function bench(argv: string[], resourcesDir: string, cliFile: string): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const steps = intFlag(values.steps, 'steps', 6, 1, 1000)
  const backend = (values.backend as BackendName | undefined) ?? 'auto'
  if (values.section) {
    const out = await runSection(values.section as Part, {
      steps,
      backend,
      resourcesDir,
      workersDir: path.join(path.dirname(cliFile), '..', 'out', 'main', 'workers')
    })
    console.log(JSON.stringify({ ...out, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }))
    return 0
  }
  const rounds = intFlag(values.rounds, 'rounds', 1, 1, 10)
  const wanted = values.only ? (values.only.split(',') as Section[]) : [...SECTIONS]
  for (const section of wanted) if (!SECTIONS.includes(section)) throw new Error(`Unknown bench section "${section}" (sections: ${SECTIONS.join(', ')}).`)
  const runs: Record<string, unknown>[] = []
  for (let r = 0; r < rounds; r++) {
    if (rounds > 1) process.stderr.write(`bench: round ${r + 1} of ${rounds}\n`)
    const run = runSections(wanted, steps, backend, cliFile)
    if (!values['no-torch']) run.pytorch = pyTorchYardsticks(values.torch ?? path.resolve(resourcesDir, '..', 'tools', 'torch_train_bench.py'), resourcesDir, steps, wanted)
    runs.push(run)
  }
  const result: Record<string, unknown> = {
    machine: `${os.cpus()[0]?.model.trim()} x ${os.availableParallelism()}`,
    peak_gflops: round(PEAK_GFLOPS, 1),
    peak: CPU_PEAK.derivation,
    ...(rounds > 1 ? { rounds: `${rounds}, in turn; each part its fastest run, peak RSS the largest of its runs` } : {}),
    ...fastestRuns(runs)
  }
  addRatios(result)
  const goals = speedGoals(result)
  if (Object.keys(goals).length) result.speed_goals = goals
  console.log(JSON.stringify(result, null, 2))
  return 0
}

/** Each wanted section's measurement, a process each (its parts a process each). */
function runSections(wanted: Section[], steps: number, backend: BackendName | 'auto', cliFile: string): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const section of wanted) {
    process.stderr.write(`bench: ${section}...\n`)
    const run = (name: string): unknown => {
      const args = [cliFile, 'bench', '--section', name, '--steps', String(steps), '--backend', section.endsWith('-stock') ? 'wasm' : backend]
      const env = { ...process.env, ...WORKER_ENV }
      return JSON.parse(
        execFileSync(process.execPath, args, { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 })
          .trim()
          .split('\n')
          .at(-1)!
      )
    }
    const parts = PARTS[section]
    result[section] = parts ? Object.fromEntries(Object.entries(parts).map(([key, name]) => [key, run(name)])) : run(section)
  }
  return result
}

type Measured = Record<string, unknown>
const isObject = (x: unknown): x is Measured => typeof x === 'object' && x !== null && !Array.isArray(x)
const speedOf = (x: Measured): number | undefined => (typeof x.tokens_per_s === 'number' ? x.tokens_per_s : undefined)

/**
 * The runs of several rounds as one: a measurement with tokens/s keeps its fastest run's figures
 * and the largest peak RSS among its runs; an object of measurements is combined key by key;
 * anything else (skips, other sections' figures) is the first run's.
 */
export function fastestRuns(runs: Measured[]): Measured {
  const first = runs[0]
  if (runs.length === 1) return first
  const out: Measured = {}
  for (const [key, value] of Object.entries(first)) {
    const all = runs.map((r) => r[key]).filter(isObject)
    if (!isObject(value) || all.length !== runs.length) out[key] = value
    else if (speedOf(value) === undefined && typeof value.peak_rss_mb !== 'number') out[key] = fastestRuns(all)
    else {
      const best = all.reduce((a, b) => ((speedOf(b) ?? 0) > (speedOf(a) ?? 0) ? b : a))
      const peaks = all.map((r) => r.peak_rss_mb).filter((p): p is number => typeof p === 'number')
      const speeds = speedOf(value) === undefined ? {} : { tokens_per_s_runs: all.map(speedOf) }
      out[key] = { ...best, ...(peaks.length ? { peak_rss_mb: Math.max(...peaks) } : {}), ...speeds }
    }
  }
  return out
}

async function runSection(section: Part, o: { steps: number; backend: BackendName | 'auto'; resourcesDir: string; workersDir: string }): Promise<Record<string, unknown>> {
  switch (section) {
    case 'train-pytorch':
    case 'eval-pytorch':
    case 'generation-pytorch': {
      const python = process.env.GPTW_PYTHON || '/usr/bin/python3'
      try {
        execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' })
      } catch {
        return { skipped: `${python} has no torch (apt-get install -y python3-torch libopenblas0-pthread, or set GPTW_PYTHON)` }
      }
      if (section === 'generation-pytorch') return { ...(await torchDecodeBench(o.resourcesDir, { python, backend: o.backend })) }
      if (section === 'eval-pytorch') return { ...(await evalEnginesBench(o.resourcesDir, { python, requests: 128, backend: o.backend })) }
      return trainPyTorchSection({ resourcesDir: o.resourcesDir, workersDir: o.workersDir, steps: o.steps, python })
    }
    case 'train-gpt2-small':
    case 'train-gpt2-small-checkpointed':
      return trainGpt2Small(Math.min(o.steps, GPT2_SMALL.maxSteps), o.backend, section === 'train-gpt2-small-checkpointed')
    case 'train-gpt2-medium-checkpointed':
      return trainGpt2MediumMemory(o.backend)
    case 'train':
    case 'train-stock':
      return trainSpeed(o.resourcesDir, o.steps, o.backend)
    case 'generation':
    case 'generation-stock': {
      const g = await benchGeneration({ resourcesDir: o.resourcesDir, newTokens: 256, backend: o.backend })
      // Forward-only model FLOPs per generated token: 2 x parameters (the KV cache makes it so).
      const flopsPerToken = 2 * parameterCount(g.model)
      return { ...g, kv_mfu: round((flopsPerToken * g.kvCacheTokensPerSec) / 1e9 / PEAK_GFLOPS, 4) }
    }
    case 'eval':
    case 'eval-stock':
      return { ...(await evalBench(o.resourcesDir, { requests: 128, backend: o.backend })) }
    case 'data':
      return { ...(await benchDataPipeline()) }
    case 'serve':
      return { ...(await benchServe({ resourcesDir: o.resourcesDir, backend: o.backend })) }
  }
}

function benchConfig(resourcesDir: string, steps: number): TrainConfig {
  const preset = JSON.parse(fs.readFileSync(path.join(resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: object }
  // As the PyTorch yardstick: no clipping (it has none), AdamW.
  return TrainConfig.parse({ ...preset.config, steps: steps + 2, optimizer: { lr: 3e-4, weightDecay: 0.1, gradClip: 0 } })
}

async function trainSpeed(resourcesDir: string, steps: number, backendChoice: BackendName | 'auto'): Promise<Record<string, unknown>> {
  const config = benchConfig(resourcesDir, steps)
  const backend = await initBackend(backendChoice)
  const model = new GPT(config.model)
  // Random tokens over the whole (padded) vocabulary, as the PyTorch yardstick draws them.
  const tokens = randomTokens(1 << 20, config.model.vocabSize)
  const trainer = new Trainer({ config, model, train: tokens, val: null, ctx: inlineContext() })
  const times: number[] = []
  let first = 0
  for (let s = 0; s < steps + 2; s++) {
    const t0 = process.hrtime.bigint()
    await trainer.step()
    const took = Number(process.hrtime.bigint() - t0) / 1e9
    if (s === 0) first = took
    if (s >= 2) times.push(took)
  }
  trainer.optimizer.dispose()
  model.dispose()
  tf.disposeVariables()
  times.sort((a, b) => a - b)
  const stepS = times[Math.floor(times.length / 2)]
  const tokensPerStep = config.batchSize * config.model.nCtx
  const params = parameterCount(config.model)
  return {
    backend: backend.name,
    backend_detail: backend.detail,
    params,
    tokens_per_step: tokensPerStep,
    first_step_s: round(first, 3),
    step_s: round(stepS, 4),
    first_vs_steady_step: round(first / stepS, 2),
    tokens_per_s: round(tokensPerStep / stepS, 1),
    model_gflops: round((6 * params * tokensPerStep) / stepS / 1e9, 2),
    mfu: round((6 * params * tokensPerStep) / stepS / 1e9 / PEAK_GFLOPS, 3)
  }
}

/** GPT-2 small's shape at batch 1 on random tokens: the median of `steps` timed steps after an untimed first one (reported as first_step_s). */
async function trainGpt2Small(steps: number, backendChoice: BackendName | 'auto', activationCheckpointing: boolean): Promise<Record<string, unknown>> {
  const config = TrainConfig.parse({
    model: GPT2_SMALL.model,
    batchSize: GPT2_SMALL.batchSize,
    steps: steps + 1,
    optimizer: { lr: 3e-4, weightDecay: 0.1, gradClip: 0 },
    eval: { interval: 0 },
    activationCheckpointing
  })
  const backend = await initBackend(backendChoice)
  const model = new GPT(config.model)
  const tokens = randomTokens(1 << 20, config.model.vocabSize)
  const trainer = new Trainer({ config, model, train: tokens, val: null, ctx: inlineContext() })
  const times: number[] = []
  for (let s = 0; s < steps + 1; s++) {
    const t0 = process.hrtime.bigint()
    await trainer.step()
    times.push(Number(process.hrtime.bigint() - t0) / 1e9)
  }
  trainer.optimizer.dispose()
  model.dispose()
  const first = times[0]
  const timed = times.slice(1).sort((a, b) => a - b)
  const stepS = timed[Math.floor(timed.length / 2)]
  const tokensPerStep = config.batchSize * config.model.nCtx
  return {
    backend: backend.name,
    activation_checkpointing: activationCheckpointing,
    params: parameterCount(config.model),
    tokens_per_step: tokensPerStep,
    steps,
    first_step_s: round(first, 2),
    step_s: round(stepS, 3),
    first_vs_steady_step: round(first / stepS, 2),
    tokens_per_s: round(tokensPerStep / stepS, 1)
  }
}

/** GPT-2 medium with activation checkpointing, GPT2_MEDIUM.steps steps on random tokens: no timings (the caller adds the process's peak RSS). */
async function trainGpt2MediumMemory(backendChoice: BackendName | 'auto'): Promise<Record<string, unknown>> {
  const config = TrainConfig.parse({
    model: GPT2_MEDIUM.model,
    batchSize: GPT2_MEDIUM.batchSize,
    steps: GPT2_MEDIUM.steps,
    optimizer: { lr: 3e-4, weightDecay: 0.1, gradClip: 0 },
    eval: { interval: 0 },
    activationCheckpointing: true
  })
  const backend = await initBackend(backendChoice)
  const model = new GPT(config.model)
  const trainer = new Trainer({ config, model, train: randomTokens(1 << 20, config.model.vocabSize), val: null, ctx: inlineContext() })
  const losses: number[] = []
  for (let s = 0; s < GPT2_MEDIUM.steps; s++) losses.push(round((await trainer.step()).loss, 4))
  trainer.optimizer.dispose()
  model.dispose()
  return { backend: backend.name, activation_checkpointing: true, params: parameterCount(config.model), tokens_per_step: config.batchSize * config.model.nCtx, steps: GPT2_MEDIUM.steps, losses }
}

/** PyTorch's figures on the same shapes (the yardstick scripts), or why there are none. */
function pyTorchYardsticks(trainScript: string, resourcesDir: string, steps: number, wanted: Section[]): Measured | string {
  const torch: Measured = {}
  const python = '/usr/bin/python3'
  try {
    execFileSync(python, ['-c', 'import torch'], { stdio: 'ignore' })
  } catch {
    return 'skipped: PyTorch is not installed (apt-get install -y python3-torch libopenblas0-pthread)'
  }
  if (wanted.includes('train') || wanted.includes('train-pytorch')) {
    if (fs.existsSync(trainScript)) {
      const out = JSON.parse(
        execFileSync(python, [trainScript, '--steps', String(steps)], { encoding: 'utf8', timeout: 900_000 })
          .trim()
          .split('\n')
          .at(-1)!
      )
      torch.train = { ...out, mfu: round(out.model_gflops / PEAK_GFLOPS, 3) }
    } else torch.train = `skipped: ${trainScript} not found (pass --torch FILE)`
  }
  if (wanted.includes('train-gpt2-small')) {
    if (fs.existsSync(trainScript)) {
      const { nLayer, nHead, nEmbd, nCtx } = GPT2_SMALL.model
      const shape = ['--vocab', '50304', '--ctx', String(nCtx), '--layers', String(nLayer), '--heads', String(nHead), '--embd', String(nEmbd), '--batch', String(GPT2_SMALL.batchSize)]
      const n = String(Math.min(steps, GPT2_SMALL.maxSteps))
      const out = JSON.parse(
        execFileSync(python, [trainScript, ...shape, '--steps', n, '--warmup', '1'], { encoding: 'utf8', timeout: 900_000 })
          .trim()
          .split('\n')
          .at(-1)!
      ) as { tokens_per_s: number; peak_rss_mb: number }
      torch.train_gpt2_small = out
    } else torch.train_gpt2_small = `skipped: ${trainScript} not found (pass --torch FILE)`
  }
  if (wanted.includes('generation') || wanted.includes('eval')) {
    const infer = path.resolve(resourcesDir, '..', 'tools', 'torch_infer_bench.py')
    const requestsFile = path.join(os.tmpdir(), `gptw-bench-requests-${process.pid}.json`)
    fs.writeFileSync(requestsFile, JSON.stringify(requestTokens(128)))
    try {
      torch.inference = JSON.parse(execFileSync(python, [infer, '--requests', requestsFile], { encoding: 'utf8', timeout: 900_000 }).trim().split('\n').at(-1)!)
    } finally {
      fs.rmSync(requestsFile, { force: true })
    }
  }
  return torch
}

/** Ours over PyTorch's, for each shape both measured (result.pytorch from pyTorchYardsticks). */
function addRatios(result: Measured): void {
  const torch = isObject(result.pytorch) ? result.pytorch : {}
  const num = (x: unknown, key: string): number | undefined => (isObject(x) && typeof x[key] === 'number' ? (x[key] as number) : undefined)
  const ratio = (a: number | undefined, b: number | undefined): number | undefined => (a !== undefined && b ? round(a / b, 3) : undefined)
  const set = (key: string, value: unknown) => {
    if (value !== undefined) result[key] = value
  }
  const train = torch.train
  set('ratio_train_vs_pytorch', ratio(num(result.train, 'tokens_per_s'), num(train, 'tokens_per_s')))
  // The PyTorch engine through the app's launcher beside the bare yardstick: what launching and relaying cost.
  set('ratio_train_pytorch_engine_vs_yardstick', ratio(num(result['train-pytorch'], 'tokens_per_s'), num(train, 'tokens_per_s')))
  const small = isObject(result['train-gpt2-small']) ? result['train-gpt2-small'] : undefined
  const torchSmall = torch.train_gpt2_small
  if (small && isObject(torchSmall))
    set('ratios_train_gpt2_small_vs_pytorch', {
      tokens_per_s: ratio(num(small.off, 'tokens_per_s'), num(torchSmall, 'tokens_per_s')),
      tokens_per_s_checkpointed: ratio(num(small.checkpointed, 'tokens_per_s'), num(torchSmall, 'tokens_per_s')),
      peak_rss: ratio(num(small.off, 'peak_rss_mb'), num(torchSmall, 'peak_rss_mb')),
      peak_rss_checkpointed: ratio(num(small.checkpointed, 'peak_rss_mb'), num(torchSmall, 'peak_rss_mb'))
    })
  const inference = torch.inference
  set('ratio_generation_kv_vs_pytorch', ratio(num(result.generation, 'kvCacheTokensPerSec'), num(inference, 'generation_kv_tokens_per_s')))
  set('ratio_generation_recompute_vs_pytorch', ratio(num(result.generation, 'recomputeTokensPerSec'), num(inference, 'generation_recompute_tokens_per_s')))
  set('ratio_eval_vs_pytorch', ratio(num(result.eval, 'loglikelihood_requests_per_s'), num(inference, 'loglikelihood_requests_per_s')))
}

/**
 * Issue 17's speed goals, each a ratio from this run beside its goal and whether it is met: GPT-2
 * small's tokens/s over PyTorch's (>= 1.3), its step with checkpointing over without (<= 1.3),
 * the bench shape's tokens/s over PyTorch's (>= 1.5), and each training part's first step over its
 * steady one (<= 2). Only the ratios this run measured.
 */
function speedGoals(result: Record<string, unknown>): Record<string, { value: number; goal: string; met: boolean }> {
  const goals: Record<string, { value: number; goal: string; met: boolean }> = {}
  const add = (name: string, value: number | undefined, atLeast: boolean, bound: number) => {
    if (value === undefined || !Number.isFinite(value)) return
    goals[name] = { value: round(value, 3), goal: `${atLeast ? '>=' : '<='} ${bound}`, met: atLeast ? value >= bound : value <= bound }
  }
  type Part = { step_s: number; first_vs_steady_step: number }
  const small = result['train-gpt2-small'] as { off?: Part; checkpointed?: Part } | undefined
  const smallVsTorch = result.ratios_train_gpt2_small_vs_pytorch as { tokens_per_s: number } | undefined
  const train = result.train as Part | undefined
  add('gpt2_small_tokens_per_s_vs_pytorch', smallVsTorch?.tokens_per_s, true, 1.3)
  if (small?.off && small.checkpointed) add('gpt2_small_checkpointed_step_vs_off', small.checkpointed.step_s / small.off.step_s, false, 1.3)
  add('bench_shape_tokens_per_s_vs_pytorch', result.ratio_train_vs_pytorch as number | undefined, true, 1.5)
  add('gpt2_small_first_vs_steady_step', small?.off?.first_vs_steady_step, false, 2)
  add('gpt2_small_checkpointed_first_vs_steady_step', small?.checkpointed?.first_vs_steady_step, false, 2)
  add('bench_shape_first_vs_steady_step', train?.first_vs_steady_step, false, 2)
  return goals
}

/** The eval bench's requests as token sequences (context + continuation, cut to the window) for PyTorch. */
function requestTokens(count: number): [number[], number][] {
  const window = 129
  return benchRequests(count).map((r) => {
    const context = r.context ? encodeText(r.context) : [END_OF_TEXT]
    const continuation = encodeText(r.continuation)
    return [[...context, ...continuation].slice(-window), continuation.length]
  })
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits))
}
