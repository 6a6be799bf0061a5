// Evaluation on the PyTorch engine (python/gptw_torch/serve.py behind TorchLanguageModel) against
// the embedded engine (GPTLanguageModel) on one random checkpoint: every metric of every fixture
// task (the seed's 39, data from the local stand-in for the download hosts) within 1e-4 relative,
// with one model server and with the requests sharded over two; rolling log-likelihoods alike.
// Real torch (Debian's python3-torch on the CPU); skipped without it except under CI=true.
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { loadTraining } from '../../src/core/engine/checkpoint-tf'
import type { GPT } from '../../src/core/engine/model'
import { ModelServerPool, shardByLength } from '../../src/core/engine/pytorch/model-server'
import { buildRequests } from '../../src/core/eval/build'
import { EvalDataStore } from '../../src/core/eval/data/store'
import { GPTLanguageModel } from '../../src/core/eval/engine/gpt-model'
import { TorchLanguageModel } from '../../src/core/eval/engine/torch-model'
import { type EvaluateOutcome, evaluateTasks } from '../../src/core/eval/evaluate'
import type { LanguageModel } from '../../src/core/eval/model'
import { getTask } from '../../src/core/eval/tasks/registry'
import { tempDir } from '../helpers'
import { type FixtureServer, startFixtureServer } from '../eval/fixture-server'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const TASKS = [
  'cola',
  'mnli',
  'mnli_mismatched',
  'mrpc',
  'rte',
  'qnli',
  'qqp',
  'sst',
  'wnli',
  'boolq',
  'cb',
  'copa',
  'record',
  'wic',
  'wsc',
  'drop',
  'lambada',
  'piqa',
  'prost',
  'mc_taco',
  'sciq',
  'qa4mre_2013',
  'arc_challenge',
  'logiqa',
  'hellaswag',
  'openbookqa',
  'race',
  'headqa',
  'mathqa',
  'webqs',
  'wsc273',
  'winogrande',
  'anli_r3',
  'ethics_cm',
  'math_algebra',
  'arithmetic_2da',
  'hendrycksTest-abstract_algebra',
  'wmt14-en-fr',
  'blimp_adjunct_island'
]
const BATCH = 4
const relDiff = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b)))

describeTorch('eval on the PyTorch engine', () => {
  let server: FixtureServer
  let store: EvalDataStore
  let dir: string
  let gpt: GPT
  const pools: ModelServerPool[] = []
  const pool = async (devices: string[]): Promise<ModelServerPool> => {
    const p = await ModelServerPool.start(devices, { checkpoint: dir, batchSize: BATCH, python: PYTHON, packageDir: PACKAGE_DIR, threads: 1 })
    pools.push(p)
    return p
  }
  const run = async (model: LanguageModel): Promise<{ out: EvaluateOutcome; seconds: number }> => {
    const t0 = performance.now()
    const out = await evaluateTasks(TASKS, model, store, { numFewshot: 0, bootstrapIters: 100 })
    return { out, seconds: (performance.now() - t0) / 1000 }
  }
  let embedded: { out: EvaluateOutcome; seconds: number }

  beforeAll(async () => {
    server = await startFixtureServer()
    store = new EvalDataStore(tempDir('gptw-torch-eval-data-'), server.sources)
    dir = path.join(tempDir('gptw-torch-eval-'), 'step-1')
    randomCheckpoint(dir, { nCtx: 64, seed: 11 })
    // Fetch every task's data first: a download must not wait on a compute-bound event loop (the
    // fixture server's keep-alive sockets time out meanwhile).
    for (const t of TASKS) await buildRequests(getTask(t), store, { numFewshot: 0 })
    await initBackend('wasm')
    gpt = loadTraining(dir, { modelOnly: true }).model
    embedded = await run(new GPTLanguageModel(gpt, { id: 'x', batchSize: BATCH }))
  })
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()))
    gpt?.dispose()
    await server?.close()
  })

  it('shards length buckets over the servers by work and keeps every request once', () => {
    const lengths = [5, 60, 7, 33, 33, 2, 64, 9, 10]
    const shards = shardByLength(lengths, 2, 2)
    expect(shards.flat().sort((a, b) => a - b)).toEqual(lengths.map((_, i) => i))
    // buckets of 2, longest first, each to the lighter shard: [6,1] (124 tokens) -> 0; [3,4] (66), [8,7], [2,0], [5] -> 1 (still under 124)
    expect(shards).toEqual([
      [6, 1],
      [3, 4, 8, 7, 2, 0, 5]
    ])
    expect(shardByLength(lengths, 3, 1)).toEqual([
      [6, 7, 5],
      [1, 8, 0],
      [3, 4, 2]
    ])
  })

  for (const devices of [['cpu:0'], ['cpu:0', 'cpu:1']]) {
    it(`every metric of the ${TASKS.length} fixture tasks equals the embedded engine's within 1e-4 relative (${devices.length} process${devices.length > 1 ? 'es' : ''})`, async () => {
      const p = await pool(devices)
      expect(p.servers.map((s) => s.info)).toEqual(devices.map(() => expect.objectContaining({ device: 'cpu', dtype: 'float32', nCtx: 64, vocabSize: 50257 })))
      const torch = await run(new TorchLanguageModel(p, 'x'))
      expect(torch.out.failures).toEqual([])
      expect(embedded.out.failures).toEqual([])
      expect(torch.out.results.map((r) => r.task)).toEqual(TASKS)
      const rows: string[] = []
      let metrics = 0
      let worst = { d: 0, at: 'none' }
      embedded.out.results.forEach((e, t) => {
        const got = torch.out.results[t]
        expect(Object.keys(got.metrics)).toEqual(Object.keys(e.metrics))
        for (const [name, m] of Object.entries(e.metrics)) {
          const d = relDiff(got.metrics[name].value, m.value)
          rows.push(`| ${e.task} | ${name} | ${m.value.toPrecision(8)} | ${got.metrics[name].value.toPrecision(8)} | ${d.toExponential(2)} |`)
          if (d > worst.d) worst = { d, at: `${e.task} ${name}` }
          expect(d, `${e.task} ${name}: ${got.metrics[name].value} vs ${m.value}`).toBeLessThanOrEqual(1e-4)
          metrics++
        }
        // the samples' per-request answers agree too (greedy text exactly, log-likelihoods closely)
        embedded.out.samples[e.task].forEach((s, i) =>
          s.results.forEach((r, j) => {
            const g = torch.out.samples[e.task][i].results[j]
            if (typeof r === 'object' && r !== null && typeof g === 'object' && g !== null) {
              expect(relDiff(g.logprob, r.logprob)).toBeLessThanOrEqual(1e-4)
              expect(g.isGreedy).toBe(r.isGreedy)
            } else expect(g).toEqual(r)
          })
        )
      })
      expect(metrics).toBeGreaterThan(TASKS.length)
      const requests = Object.values(embedded.out.samples).reduce((n, ss) => n + ss.reduce((k, s) => k + s.requests.length, 0), 0)
      console.log(
        `parity, ${devices.length} PyTorch process(es): ${metrics} metrics, ${requests} requests; max relative difference ${worst.d.toExponential(2)} (${worst.at}); embedded ${embedded.seconds.toFixed(1)} s, pytorch ${torch.seconds.toFixed(1)} s\n| task | metric | embedded | pytorch | rel diff |\n|---|---|---|---|---|\n${rows.join('\n')}`
      )
    })
  }

  it('rolling log-likelihoods (windows past the context) equal the embedded engine', async () => {
    const p = pools[0] ?? (await pool(['cpu:0']))
    const text =
      'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world. It is a way I have of driving off the spleen and regulating the circulation.'
    const requests = [text, text.slice(0, 40), 'x', text.repeat(3)].map((t) => ({ type: 'loglikelihood_rolling' as const, text: t }))
    const want = await new GPTLanguageModel(gpt, { id: 'x', batchSize: BATCH }).loglikelihoodRolling(requests)
    const got = await new TorchLanguageModel(p, 'x').loglikelihoodRolling(requests)
    got.forEach((g, i) => expect(relDiff(g, want[i])).toBeLessThanOrEqual(1e-4))
    expect(new Set(got.map((g) => g.toFixed(2))).size).toBe(4)
  })

  it('greedy_until decoded with a KV cache (context 96: room for 40 tokens without a window move) equals the embedded engine', async () => {
    const dir96 = path.join(tempDir('gptw-torch-eval-96-'), 'step-1')
    randomCheckpoint(dir96, { nCtx: 96, seed: 12 })
    const gpt96 = loadTraining(dir96, { modelOnly: true }).model
    const p = await ModelServerPool.start(['cpu:0', 'cpu:1'], { checkpoint: dir96, batchSize: 2, python: PYTHON, packageDir: PACKAGE_DIR, threads: 1 })
    pools.push(p)
    try {
      const contexts = [
        'Question: What is the capital of France?\nAnswer:',
        'Translate to French: the cat sat on the mat =',
        '',
        'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse'
      ]
      const requests = contexts.flatMap((context) => [['\n'], ['.'], [',', ' the'], []].map((stops) => ({ type: 'greedy_until' as const, context, stops, maxTokens: 40 })))
      const want = await new GPTLanguageModel(gpt96, { id: 'x', batchSize: 4 }).greedyUntil(requests)
      const got = await new TorchLanguageModel(p, 'x').greedyUntil(requests)
      expect(got).toEqual(want)
      expect(new Set(got.map((t) => t.length)).size).toBeGreaterThan(3) // stops cut the texts at different places
    } finally {
      gpt96.dispose()
    }
  })

  it('a server that cannot load its checkpoint says why', async () => {
    await expect(ModelServerPool.start(['cpu:0'], { checkpoint: path.join(dir, 'missing'), python: PYTHON, packageDir: PACKAGE_DIR })).rejects.toThrow(
      /did not start: FileNotFoundError: .*no such checkpoint folder/
    )
  })
})
