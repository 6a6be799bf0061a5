// Eval speed of both engines for `npm run bench` (its eval-pytorch section, issue 18): the bench
// preset's model (random weights, saved as a checkpoint both engines load) scoring the eval bench's
// loglikelihood requests through each engine's LanguageModel: the embedded engine in this process
// (GPTLanguageModel) and the PyTorch model servers on the CPU in float32 (TorchLanguageModel), one
// process and two (the requests sharded by length, the cores split between them). The timed passes
// are interleaved round by round, so load on a shared machine falls on every engine alike; each
// engine's figure is its median pass. The answers are compared too: the largest relative
// difference of a request's log-likelihood between the engines.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { LoglikelihoodResult } from '../../shared/eval'
import { benchPresetModel, median, round } from '../bench-figures'
import { type BackendName, describeBackend, initBackend } from '../engine/backend'
import { saveCheckpoint } from '../engine/checkpoint'
import { toHost } from '../engine/checkpoint-tf'
import { GPT } from '../engine/model'
import type { ModelServerPool } from '../engine/pytorch/model-server'
import { benchRequests } from './bench'
import { GPTLanguageModel } from './engine/gpt-model'
import { TorchLanguageModel, startModelServers } from './engine/torch-model'
import type { LanguageModel } from './model'

export interface EngineEvalFigure {
  engine: 'embedded' | 'pytorch'
  /** The embedded engine's backend, or the PyTorch servers' devices, dtype and torch version. */
  detail: string
  processes: number
  /** Each timed pass's seconds, in order. */
  passes_s: number[]
  seconds: number
  loglikelihood_requests_per_s: number
}

export interface EngineEvalBenchResult {
  preset: string
  requests: number
  batch_size: number
  n_ctx: number
  rounds: number
  embedded: EngineEvalFigure
  pytorch_1: EngineEvalFigure
  pytorch_2: EngineEvalFigure
  /** requests/s over the embedded engine's. */
  ratio_pytorch_1_vs_embedded: number
  ratio_pytorch_2_vs_embedded: number
  ratio_pytorch_2_vs_1: number
  /** The largest relative difference of one request's log-likelihood from the embedded engine's (and whether every greedy flag agreed). */
  max_rel_logprob_diff: number
  greedy_flags_equal: boolean
}

const relDiff = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)))

export async function evalEnginesBench(resourcesDir: string, o: { python: string; requests?: number; rounds?: number; backend?: BackendName | 'auto' }): Promise<EngineEvalBenchResult> {
  const { model, batchSize } = benchPresetModel(resourcesDir)
  const rounds = o.rounds ?? 3
  const backend = await initBackend(o.backend ?? 'auto')
  const gpt = new GPT(model)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-bench-eval-engines-'))
  const pools: ModelServerPool[] = []
  try {
    const checkpoint = path.join(root, 'step-1')
    saveCheckpoint(checkpoint, { config: model, params: await toHost(gpt.params) })
    const start = async (devices: string[]): Promise<ModelServerPool> => {
      const pool = await startModelServers(checkpoint, { devices, dtype: 'float32', batchSize, python: o.python })
      pools.push(pool)
      return pool
    }
    const [one, two] = [await start(['cpu:0']), await start(['cpu:0', 'cpu:1'])]
    const engines: { key: 'embedded' | 'pytorch_1' | 'pytorch_2'; lm: LanguageModel; engine: 'embedded' | 'pytorch'; detail: string; processes: number }[] = [
      { key: 'embedded', lm: new GPTLanguageModel(gpt, { id: 'bench', batchSize }), engine: 'embedded', detail: describeBackend(backend), processes: 1 },
      { key: 'pytorch_1', lm: new TorchLanguageModel(one, 'bench'), engine: 'pytorch', detail: one.describe(), processes: 1 },
      { key: 'pytorch_2', lm: new TorchLanguageModel(two, 'bench'), engine: 'pytorch', detail: two.describe(), processes: 2 }
    ]
    // warm-up: kernels compiled, buffers allocated, the servers' first batches run
    for (const e of engines) await e.lm.loglikelihood(benchRequests(2 * batchSize))
    const requests = benchRequests(o.requests ?? 128)
    const passes = new Map(engines.map((e) => [e.key, [] as number[]]))
    const answers = new Map<string, LoglikelihoodResult[]>()
    for (let r = 0; r < rounds; r++) {
      for (const e of engines) {
        const t0 = process.hrtime.bigint()
        const got = await e.lm.loglikelihood(requests)
        passes.get(e.key)!.push(Number(process.hrtime.bigint() - t0) / 1e9)
        answers.set(e.key, got)
      }
    }
    const figure = (e: (typeof engines)[number]): EngineEvalFigure => {
      const p = passes.get(e.key)!
      const middle = median(p)
      return {
        engine: e.engine,
        detail: e.detail,
        processes: e.processes,
        passes_s: p.map((s) => round(s, 3)),
        seconds: round(middle, 3),
        loglikelihood_requests_per_s: round(requests.length / middle, 1)
      }
    }
    const [embedded, pytorch1, pytorch2] = engines.map(figure)
    const want = answers.get('embedded')!
    let maxDiff = 0
    let greedyEqual = true
    for (const key of ['pytorch_1', 'pytorch_2']) {
      answers.get(key)!.forEach((g, i) => {
        maxDiff = Math.max(maxDiff, relDiff(g.logprob, want[i].logprob))
        greedyEqual &&= g.isGreedy === want[i].isGreedy
      })
    }
    return {
      preset: 'bench',
      requests: requests.length,
      batch_size: batchSize,
      n_ctx: model.nCtx,
      rounds,
      embedded,
      pytorch_1: pytorch1,
      pytorch_2: pytorch2,
      ratio_pytorch_1_vs_embedded: round(pytorch1.loglikelihood_requests_per_s / embedded.loglikelihood_requests_per_s, 3),
      ratio_pytorch_2_vs_embedded: round(pytorch2.loglikelihood_requests_per_s / embedded.loglikelihood_requests_per_s, 3),
      ratio_pytorch_2_vs_1: round(pytorch2.loglikelihood_requests_per_s / pytorch1.loglikelihood_requests_per_s, 3),
      max_rel_logprob_diff: Number(maxDiff.toExponential(2)),
      greedy_flags_equal: greedyEqual
    }
  } finally {
    await Promise.all(pools.map((p) => p.close()))
    gpt.dispose()
    fs.rmSync(root, { recursive: true, force: true })
  }
}
