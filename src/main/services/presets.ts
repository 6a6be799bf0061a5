// Reads and checks the training presets shipped in resources/presets.
import fs from 'node:fs'
import path from 'node:path'
import { describeZodError } from '../../shared/api'
import { Preset } from '../../shared/presets'

export function listPresets(resourcesDir: string): Preset[] {
  const dir = path.join(resourcesDir, 'presets')
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readPreset(path.join(dir, f)))
}

export function findPreset(resourcesDir: string, name: string): Preset {
  const file = path.join(resourcesDir, 'presets', `${name}.json`)
  if (!/^[a-z0-9.-]+$/.test(name) || !fs.existsSync(file)) {
    const known = listPresets(resourcesDir).map((p) => p.name)
    throw new Error(`Unknown preset "${name}". Presets: ${known.join(', ')}.`)
  }
  return readPreset(file)
}

function readPreset(file: string): Preset {
  const parsed = Preset.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')))
  if (!parsed.success) throw new Error(`Preset ${file} is invalid: ${describeZodError(parsed.error)}`)
  return parsed.data
}
