// `npm run bench`'s train-pytorch section (issue 12): the PyTorch engine launched the way the app
// launches it (a Workbench train job: the train worker runs torchrun, relays rank 0's step lines
// into SQLite) on the bench shape, so that beside the bare yardstick script the launcher's cost
// shows: the seconds from the job's start to its first step, and the steady tokens/s.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { TrainConfig } from '../../shared/config/train'
import { ShardWriter, writeShardMeta } from '../../core/data/shards'
import { Workbench } from '../services/workbench'
import { randomTokens } from './bench-tokens'

const TOKENIZER_VOCAB = 50257

export interface PyTorchBenchOptions {
  resourcesDir: string
  workersDir: string
  steps: number
  /** The interpreter with torch (GPTW_PYTHON, else Debian's). */
  python: string
}

export async function trainPyTorchSection(o: PyTorchBenchOptions): Promise<Record<string, unknown>> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-bench-pytorch-'))
  const workbench = new Workbench({ workspaceRoot: root, workersDir: o.workersDir, resourcesDir: o.resourcesDir, host: 'web', version: 'bench' })
  try {
    const preset = JSON.parse(fs.readFileSync(path.join(o.resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: object }
    // As the yardstick: no clipping, AdamW; two untimed steps first, no checkpoints or validation.
    const config = TrainConfig.parse({
      ...preset.config,
      steps: o.steps + 2,
      engine: 'pytorch',
      python: o.python,
      devices: ['cpu:0'],
      optimizer: { lr: 3e-4, weightDecay: 0.1, gradClip: 0 },
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 1 }
    })
    const dataset = randomDataset(path.join(root, 'datasets', 'random'), (o.steps + 4) * config.batchSize * (config.model.nCtx + 1) * 4)
    const t0 = Date.now()
    const started = await workbench.call('jobs.start', { kind: 'train', params: { config, dataset } })
    if (!started.ok) throw new Error(`The PyTorch bench job was refused: ${started.error.message}`)
    const ended = await workbench.supervisor.waitForExit(started.value.id)
    if (ended.state !== 'done') throw new Error(`The PyTorch bench job ended ${ended.state}: ${ended.error ?? ''}`)
    const run = workbench.runs.list().find((r) => r.jobId === started.value.id)
    if (!run) throw new Error(`The PyTorch bench job ${started.value.id} left no run.`)
    const metrics = workbench.runs.metrics(run.id)
    const perStep = metrics.filter((m) => m.name === 'tokensPerSec' && m.step > 2).map((m) => m.value)
    const firstStepAt = Math.min(...metrics.filter((m) => m.name === 'loss').map((m) => m.ts))
    perStep.sort((a, b) => a - b)
    const tokensPerS = perStep[Math.floor(perStep.length / 2)]
    const rankPeak = Math.max(0, ...metrics.filter((m) => m.name === 'peakRssMb').map((m) => m.value))
    return {
      engine: 'pytorch',
      launcher: 'local torchrun, 1 CPU process',
      steps: o.steps,
      tokens_per_step: config.batchSize * config.model.nCtx,
      tokens_per_s: Math.round(tokensPerS * 10) / 10,
      start_to_first_step_s: Math.round((firstStepAt - t0) / 100) / 10,
      wall_s: Math.round((Date.now() - t0) / 100) / 10,
      rank0_peak_rss_mb: Math.round(rankPeak)
    }
  } finally {
    await workbench.close()
    fs.rmSync(root, { recursive: true, force: true })
  }
}

/** A token shard folder of `tokens` uniform random ids below the tokenizer's vocabulary (the yardstick also trains on random ids). */
function randomDataset(dir: string, tokens: number): string {
  fs.mkdirSync(dir, { recursive: true })
  const splits: Record<string, { file: string; tokens: number; documents: number }> = {}
  for (const [split, count] of [
    ['train', tokens],
    ['val', Math.max(4096, tokens >> 4)]
  ] as const) {
    const writer = new ShardWriter(path.join(dir, `${split}.bin`))
    writer.push(randomTokens(count, TOKENIZER_VOCAB))
    writer.finish()
    splits[split] = { file: `${split}.bin`, tokens: count, documents: 1 }
  }
  writeShardMeta(dir, { format: 'gptw-tokens-v1', tokenizer: 'gpt2', vocabSize: TOKENIZER_VOCAB, dtype: 'uint16', source: 'random ids (bench)', splits, createdAt: new Date().toISOString() })
  return dir
}
