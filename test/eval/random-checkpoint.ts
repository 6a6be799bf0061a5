// Seeded random GPT checkpoints for eval tests, on GPT-2's real vocabulary (so the BPE fits).
// Weights are scaled as tools/torch_reference.py's make-checkpoint scales them (activations O(1),
// attention far from uniform), so log-likelihoods differ clearly between continuations.
import { type ModelConfig, GPT2_VOCAB } from '../../src/shared/config/model'
import { saveCheckpoint } from '../../src/core/engine/checkpoint'
import { parameterShapes } from '../../src/core/engine/param-names'
import type { HostTensor } from '../../src/core/engine/safetensors'
import { Rng } from '../../src/core/rng'

export interface RandomCheckpointOptions {
  nLayer?: number
  nHead?: number
  nEmbd?: number
  nCtx?: number
  seed?: number
  /** Fill the padded embedding rows with N(0, this) instead of zeros (they must never matter). */
  paddedRowsStd?: number
}

export function randomCheckpoint(dir: string, o: RandomCheckpointOptions = {}): ModelConfig {
  const config: ModelConfig = { nLayer: o.nLayer ?? 2, nHead: o.nHead ?? 2, nEmbd: o.nEmbd ?? 32, nCtx: o.nCtx ?? 64, vocabSize: GPT2_VOCAB, dropout: 0, layerNormEps: 1e-5 }
  const rng = new Rng(o.seed ?? 1)
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next())
  const params = new Map<string, HostTensor>()
  for (const [name, shape] of parameterShapes(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1))
    const fill = (std: number, mean = 0) => data.forEach((_, i) => (data[i] = mean + std * normal()))
    if (name === 'wte.weight') {
      fill(0.5)
      const padded = o.paddedRowsStd ?? 0
      for (let i = config.vocabSize * shape[1]; i < data.length; i++) data[i] = padded * normal()
    } else if (name === 'wpe.weight') fill(0.3)
    else if (/ln_(\d|f)\.weight$/.test(name)) fill(0.2, 1)
    else if (name.endsWith('.bias')) fill(0.1)
    else fill(1 / Math.sqrt(shape[0]))
    params.set(name, { shape, data })
  }
  saveCheckpoint(dir, { config, params })
  return config
}
