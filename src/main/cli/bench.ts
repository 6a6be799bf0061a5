// gptw bench (npm run bench): training speed of the bench preset on random tokens, as JSON
// {backend, tokens_per_s, step_s, params, peak_rss_mb}, beside PyTorch's on the same model when
// Debian's python3-torch and the yardstick script are present (run one after the other).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs'
import { parameterCount } from '../../shared/config/model'
import { TrainConfig } from '../../shared/config/train'
import { inlineContext } from '../../workers/context'
import { type BackendName, initBackend } from '../../workers/engine/backend'
import { GPT } from '../../workers/engine/model'
import { Trainer } from '../../workers/engine/trainer'
import { intFlag } from './args'

export async function bench(argv: string[], resourcesDir: string): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { steps: { type: 'string' }, backend: { type: 'string' }, torch: { type: 'string' }, 'no-torch': { type: 'boolean' } } })
  const steps = intFlag(values.steps, 'steps', 6, 1, 1000)
  const preset = JSON.parse(fs.readFileSync(path.join(resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: unknown }
  const config = TrainConfig.parse({ ...(preset.config as object), steps: steps + 2 })
  const backend = await initBackend((values.backend as BackendName | undefined) ?? 'auto')
  const ours = await trainSpeed(config, steps)
  const result: Record<string, unknown> = {
    backend: backend.name,
    backend_detail: backend.detail,
    preset: 'bench',
    params: parameterCount(config.model),
    tokens_per_step: config.batchSize * config.model.nCtx,
    step_s: round(ours.stepSeconds, 4),
    tokens_per_s: round((config.batchSize * config.model.nCtx) / ours.stepSeconds, 1),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024)
  }
  const torchScript = values.torch ?? path.resolve(resourcesDir, '..', '..', 'shared', 'bench', 'torch_gpt.py')
  if (!values['no-torch']) {
    const torch = runTorch(torchScript, steps)
    result.pytorch = torch
    if (torch && typeof torch === 'object' && 'tokens_per_s' in torch) result.ratio_vs_pytorch = round((result.tokens_per_s as number) / (torch.tokens_per_s as number), 3)
  }
  console.log(JSON.stringify(result))
  return 0
}

async function trainSpeed(config: TrainConfig, steps: number): Promise<{ stepSeconds: number }> {
  const model = new GPT(config.model)
  // Random tokens over the whole (padded) vocabulary, as the PyTorch yardstick draws them.
  const tokens = new Uint16Array(1 << 20)
  let seed = 1
  for (let i = 0; i < tokens.length; i++) tokens[i] = (seed = (seed * 1103515245 + 12345) >>> 0) % config.model.vocabSize
  const trainer = new Trainer({ config, model, train: tokens, val: null, ctx: inlineContext() })
  const times: number[] = []
  for (let s = 0; s < steps + 2; s++) {
    const t0 = process.hrtime.bigint()
    await trainer.step()
    if (s >= 2) times.push(Number(process.hrtime.bigint() - t0) / 1e9)
  }
  trainer.optimizer.dispose()
  model.dispose()
  tf.disposeVariables()
  times.sort((a, b) => a - b)
  return { stepSeconds: times[Math.floor(times.length / 2)] }
}

function runTorch(script: string, steps: number): Record<string, unknown> | string {
  if (!fs.existsSync(script)) return `skipped: ${script} not found (pass --torch FILE)`
  try {
    const out = execFileSync('/usr/bin/python3', [script, '--steps', String(steps)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 })
    return JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, unknown>
  } catch (err) {
    return `skipped: PyTorch yardstick failed (${(err as Error).message.split('\n')[0]}); apt-get install -y python3-torch libopenblas0-pthread`
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits))
}
