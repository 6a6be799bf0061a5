// Generation speed for `npm run bench`: tokens/s at batch 1 for the bench preset's shape with
// random weights, greedy, a fixed number of new tokens from end-of-text (the window moves past the
// preset's 128-token context), with the KV cache and with full recompute of the window per token.
import fs from 'node:fs'
import path from 'node:path'
import { ModelConfig } from '../../shared/config/model'
import { SamplingParams } from '../../shared/generate'
import { type BackendName, describeBackend, initBackend } from '../engine/backend'
import { GPT } from '../engine/model'
import { Generator } from './generator'

export interface GenerationBench {
  model: ModelConfig
  backend: string
  newTokens: number
  kvCacheTokensPerSec: number
  recomputeTokensPerSec: number
  /** kvCache / recompute. */
  speedup: number
}

export async function benchGeneration(options: { resourcesDir: string; newTokens?: number; backend?: BackendName | 'auto' }): Promise<GenerationBench> {
  const newTokens = options.newTokens ?? 256
  const preset = JSON.parse(fs.readFileSync(path.join(options.resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: { model: unknown } }
  const config = ModelConfig.parse(preset.config.model)
  const backend = await initBackend(options.backend ?? 'auto')
  const model = new GPT(config)
  const params = SamplingParams.parse({ maxNewTokens: newTokens, stopAtEndOfText: false })
  const start = { ids: [config.vocabSize - 1] }
  const rate = async (decoder: 'kv-cache' | 'recompute'): Promise<number> => {
    const g = new Generator(model, { decoder, alternatives: 0 })
    try {
      // Warm-up as long as the measured run (as the PyTorch yardstick does): the JIT has compiled
      // every path, including the window refill, and memory is reserved.
      await g.generate(start, params)
      const t0 = performance.now()
      const out = await g.generate(start, params)
      return out.length / ((performance.now() - t0) / 1000)
    } finally {
      g.dispose()
    }
  }
  try {
    const kv = await rate('kv-cache')
    const full = await rate('recompute')
    return { model: config, backend: describeBackend(backend), newTokens, kvCacheTokensPerSec: kv, recomputeTokensPerSec: full, speedup: kv / full }
  } finally {
    model.dispose()
  }
}
