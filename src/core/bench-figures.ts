// What every `npm run bench` part shares: the bench preset's model and training settings
// (resources/presets/bench.json), the median of timed passes and figures rounded for the JSON.
import fs from 'node:fs'
import path from 'node:path'
import { type ModelConfig, ModelConfig as ModelConfigSchema } from '../shared/config/model'

/** The bench preset's model, validated, and its batch size. */
export function benchPresetModel(resourcesDir: string): { model: ModelConfig; batchSize: number } {
  const preset = JSON.parse(fs.readFileSync(path.join(resourcesDir, 'presets', 'bench.json'), 'utf8')) as { config: { model: unknown; batchSize: number } }
  return { model: ModelConfigSchema.parse(preset.config.model), batchSize: preset.config.batchSize }
}

/** The middle pass (the upper one of an even count): what a loaded machine's slow passes move least. */
export function median(passes: readonly number[]): number {
  return [...passes].sort((a, b) => a - b)[Math.floor(passes.length / 2)]
}

export function round(x: number, digits: number): number {
  return Number(x.toFixed(digits))
}
