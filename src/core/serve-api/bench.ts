// Serving speed for `npm run bench` (section `serve`): the bench preset's shape with random weights
// behind the OpenAI-compatible API on 127.0.0.1, loaded by 1, 4 and 16 concurrent clients (each
// sending its next request as soon as the last one is answered), greedy completions of a fixed
// length from different token-id prompts. Reports requests/s, generated tokens/s and p50 / p95
// request latency per concurrency, and the tokens/s at 16 over that at 1 (what batching buys), also
// per CPU second of this process (on a shared machine other processes move the wall-clock figures).
// The clients run in the server's process: their JSON work is counted against the server.
import type { ModelConfig } from '../../shared/config/model'
import { benchPresetModel, round } from '../bench-figures'
import { type BackendName, describeBackend, initBackend } from '../engine/backend'
import { GPT } from '../engine/model'
import { BatchGenerator } from '../generate/batch-generator'
import { startApiServer } from './server'

export interface ServeLevel {
  concurrency: number
  requests: number
  requests_per_s: number
  tokens_per_s: number
  p50_latency_s: number
  p95_latency_s: number
  /** Sequences per decode step, on average. */
  mean_batch: number
  /** CPU seconds this process used (all its threads, clients included) for the level's requests. */
  cpu_s: number
  /** Generated tokens per CPU second: less moved than tokens_per_s by other processes on a shared machine. */
  tokens_per_cpu_s: number
}

export interface ServeBench {
  model: ModelConfig
  backend: string
  prompt_tokens: number
  max_tokens: number
  levels: ServeLevel[]
  /** tokens/s at the highest concurrency over tokens/s at 1. */
  speedup: number
  /** The same ratio in tokens per CPU second. */
  speedup_cpu: number
}

export async function benchServe(options: { resourcesDir: string; backend?: BackendName | 'auto'; maxTokens?: number; levels?: number[] }): Promise<ServeBench> {
  const config = benchPresetModel(options.resourcesDir).model
  const backend = await initBackend(options.backend ?? 'auto')
  const maxTokens = options.maxTokens ?? 32
  const promptTokens = 16
  const levels = options.levels ?? [1, 4, 16]
  const model = new GPT(config)
  const generator = new BatchGenerator(model, { maxBatch: Math.max(...levels), maxQueue: 256 })
  const server = await startApiServer({ models: [{ id: 'bench', dir: options.resourcesDir, created: 0, generator }] })
  let next = 0
  const request = async (): Promise<{ seconds: number; tokens: number }> => {
    const n = next++
    const prompt = Array.from({ length: promptTokens }, (_, i) => (n * 7919 + i * 104729) % config.vocabSize)
    const t0 = performance.now()
    const res = await fetch(`${server.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'bench', prompt, max_tokens: maxTokens, temperature: 0 })
    })
    const body = (await res.json()) as { usage?: { completion_tokens: number }; error?: { message: string } }
    if (!res.ok || !body.usage) throw new Error(`serve bench request failed: ${res.status} ${body.error?.message ?? ''}`)
    return { seconds: (performance.now() - t0) / 1000, tokens: body.usage.completion_tokens }
  }
  const run = async (concurrency: number, total: number): Promise<ServeLevel> => {
    const before = { steps: generator.stats.steps, rows: generator.stats.stepRows }
    const done: { seconds: number; tokens: number }[] = []
    let left = total
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--
          done.push(await request())
        }
      })
    )
    const wall = (performance.now() - t0) / 1000
    const used = process.cpuUsage(cpu0)
    const cpu = (used.user + used.system) / 1e6
    const tokens = done.reduce((s, d) => s + d.tokens, 0)
    const latencies = done.map((d) => d.seconds).sort((a, b) => a - b)
    const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
    return {
      concurrency,
      requests: total,
      requests_per_s: round(total / wall, 2),
      tokens_per_s: round(tokens / wall, 1),
      p50_latency_s: round(at(0.5), 3),
      p95_latency_s: round(at(0.95), 3),
      mean_batch: round((generator.stats.stepRows - before.rows) / Math.max(1, generator.stats.steps - before.steps), 2),
      cpu_s: round(cpu, 2),
      tokens_per_cpu_s: round(tokens / cpu, 1)
    }
  }
  try {
    await run(Math.max(...levels), Math.max(...levels)) // warm-up: every batch size's kernels once
    const results: ServeLevel[] = []
    for (const c of levels) results.push(await run(c, Math.max(8, 2 * c)))
    return {
      model: config,
      backend: describeBackend(backend),
      prompt_tokens: promptTokens,
      max_tokens: maxTokens,
      levels: results,
      speedup: round(results[results.length - 1].tokens_per_s / results[0].tokens_per_s, 2),
      speedup_cpu: round(results[results.length - 1].tokens_per_cpu_s / results[0].tokens_per_cpu_s, 2)
    }
  } finally {
    await server.close()
    await generator.close()
    model.dispose()
  }
}
