// Named training configs saved from the Train view, one JSON file each in <workspace>/configs,
// so the CLI runs the same file: `gptw train --config <workspace>/configs/<name>.json`.
import fs from 'node:fs'
import path from 'node:path'
import { writeJsonAtomic } from '../../core/durable-file'
import { ApiError, describeZodError } from '../../shared/api'
import { TrainConfig } from '../../shared/config/train'
import { SAVED_CONFIG_NAME, type SavedConfig } from '../../shared/run-series'

export class SavedConfigs {
  constructor(private readonly dir: string) {}

  list(): SavedConfig[] {
    if (!fs.existsSync(this.dir)) return []
    return fs
      .readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort((a, b) => a.localeCompare(b))
      .map((f) => this.read(f.slice(0, -'.json'.length)))
  }

  save(name: string, config: TrainConfig): SavedConfig {
    const file = this.file(name)
    fs.mkdirSync(this.dir, { recursive: true })
    writeJsonAtomic(file, { ...config, name })
    return this.read(name)
  }

  remove(name: string): SavedConfig[] {
    const file = this.file(name)
    if (!fs.existsSync(file)) throw new ApiError('not_found', `No saved config named "${name}".`)
    fs.rmSync(file)
    return this.list()
  }

  private file(name: string): string {
    if (!SAVED_CONFIG_NAME.test(name) || name.includes('..')) {
      throw new ApiError('bad_input', `Config name "${name}": use letters, digits, spaces, dots, dashes or underscores (up to 80), starting with a letter or digit.`)
    }
    return path.join(this.dir, `${name}.json`)
  }

  private read(name: string): SavedConfig {
    const file = path.join(this.dir, `${name}.json`)
    const updatedAt = fs.statSync(file).mtimeMs
    try {
      const parsed = TrainConfig.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')))
      if (!parsed.success) return { name, path: file, config: null, error: describeZodError(parsed.error), updatedAt }
      return { name, path: file, config: parsed.data, error: null, updatedAt }
    } catch (err) {
      return { name, path: file, config: null, error: `not valid JSON: ${(err as Error).message}`, updatedAt }
    }
  }
}
