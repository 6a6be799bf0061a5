// The command previews (src/shared/commands.ts) against the real CLI: the words bash splits them
// into, the flags help.ts lists, the config file read back by the CLI's own readers (train and
// eval), and the generate flags parsed with the generate command's own options.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import YAML from 'yaml'
import { configFileName, evalCommand, generateCommand, resumeCommand, shellQuote, trainCommand } from '../src/shared/commands'
import { EvalConfig } from '../src/shared/config/eval'
import { TrainConfig } from '../src/shared/config/train'
import { SamplingParams } from '../src/shared/generate'
import { readConfigFile } from '../src/main/cli/config-file'
import { readEvalConfig } from '../src/main/cli/eval-config'
import { OPTIONS as GENERATE_OPTIONS } from '../src/main/cli/generate'
import { COMMANDS } from '../src/main/cli/help'
import { parseTrainConfig } from '../src/main/services/training'
import { findPreset } from '../src/main/services/presets'
import { RESOURCES_DIR, removeTempDirs, tempDir } from './helpers'

afterAll(removeTempDirs)

/** The argument words bash makes of a command line (NUL-separated by printf). */
function bashWords(command: string): string[] {
  const out = execFileSync('bash', ['-c', `words() { printf '%s\\0' "$@"; }; words ${command}`], { encoding: 'utf8' })
  return out.split('\0').slice(0, -1)
}

/** Every --flag of a command line is one help.ts lists for that gptw command. */
function unknownFlags(words: string[]): string[] {
  const cmd = COMMANDS.find((c) => c.name === words[1])
  if (!cmd) return [`no command ${words[1]}`]
  const known = new Set(cmd.options.map((o) => o.name))
  return words.filter((w) => w.startsWith('--') && !known.has(w.slice(2)))
}

describe('shell quoting', () => {
  it('bash reads back each argument as it was, quotes, newlines, $ and spaces included', () => {
    const args = ['plain', 'two words', "it's", 'a\nb', '$HOME `x` "q"', '', '--flag=1', 'ünï']
    expect(bashWords(args.map(shellQuote).join(' '))).toEqual(args)
    expect(shellQuote('cpu:0,cpu:1')).toBe('cpu:0,cpu:1')
    expect(shellQuote("it's")).toBe("'it'\\''s'")
  })

  it('file names from config names', () => {
    expect(configFileName('train', 'Tiny CPU (edited)')).toBe('train-tiny-cpu-edited.yaml')
    expect(configFileName('train', undefined)).toBe('train.yaml')
  })
})

describe('train command', () => {
  const config = TrainConfig.parse({ ...findPreset(RESOURCES_DIR, 'tiny-cpu').config, name: "Tiny's run", steps: 7, devices: ['cpu:0', 'cpu:1'], seed: 99 })

  it('gptw train --config FILE, whose YAML the CLI reads back as the same config', () => {
    const preview = trainCommand(config, (v) => YAML.stringify(v))
    const words = bashWords(preview.command)
    expect(words).toEqual(['gptw', 'train', '--config', 'train-tiny-s-run.yaml'])
    expect(unknownFlags(words)).toEqual([])
    const dir = tempDir()
    const file = path.join(dir, preview.file!.name)
    fs.writeFileSync(file, preview.file!.text)
    expect(parseTrainConfig(readConfigFile(file), file)).toEqual(config)
  })

  it('the script writes the file with a here-document and then runs the command', () => {
    const preview = trainCommand(config, (v) => YAML.stringify(v))
    const dir = tempDir()
    // `gptw` stands in as a function printing its arguments, so the script runs here as written.
    const out = execFileSync('bash', ['-c', `gptw() { printf '%s\\0' "$@"; }\n${preview.script}`], { cwd: dir, encoding: 'utf8' })
    expect(out.split('\0').slice(0, -1)).toEqual(['train', '--config', 'train-tiny-s-run.yaml'])
    expect(fs.readFileSync(path.join(dir, 'train-tiny-s-run.yaml'), 'utf8')).toBe(preview.file!.text)
  })

  it('resume: --resume RUN [--step N]', () => {
    expect(resumeCommand(4)).toBe('gptw train --resume 4')
    const words = bashWords(resumeCommand(4, 20))
    expect(words).toEqual(['gptw', 'train', '--resume', '4', '--step', '20'])
    expect(unknownFlags(words)).toEqual([])
  })
})

describe('eval command', () => {
  it('gptw eval --config FILE, read back by the CLI as the same EvalConfig', () => {
    const input = { checkpoints: ['/w/runs/1/checkpoints/step-00000010'], tasks: ['lambada_openai', 'piqa'], numFewshot: 2, limit: 20, batchSize: 4, noCache: true }
    const preview = evalCommand(input, (v) => YAML.stringify(v))
    const words = bashWords(preview.command)
    expect(words).toEqual(['gptw', 'eval', '--config', 'eval.yaml'])
    expect(unknownFlags(words)).toEqual([])
    const file = path.join(tempDir(), 'eval.yaml')
    fs.writeFileSync(file, preview.file!.text)
    expect(readEvalConfig(file).config).toEqual(EvalConfig.parse(input))
  })
})

describe('generate command', () => {
  const parse = (command: string) => parseArgs({ args: bashWords(command).slice(2), options: GENERATE_OPTIONS }).values

  it('sampling: temperature, top-k, top-p, seed, penalty and stop texts as the CLI parses them', () => {
    const params = SamplingParams.parse({ maxNewTokens: 50, temperature: 0.8, topK: 40, topP: 0.9, repetitionPenalty: 1.1, seed: 7, stop: ['\n\n', 'THE END'] })
    const preview = generateCommand('/w/runs/1/checkpoints/step 10', "Call me 'Ishmael'", params)
    expect(unknownFlags(bashWords(preview.command))).toEqual([])
    const v = parse(preview.command)
    expect(v).toEqual({
      checkpoint: '/w/runs/1/checkpoints/step 10',
      prompt: "Call me 'Ishmael'",
      'max-new-tokens': '50',
      temperature: '0.8',
      'top-k': '40',
      'top-p': '0.9',
      seed: '7',
      'repetition-penalty': '1.1',
      stop: ['\\n\\n', 'THE END']
    })
    expect(preview.file).toBeNull()
    expect(preview.notes).toEqual([])
  })

  it('greedy at temperature 0; an empty prompt stays an argument; what has no flag is noted', () => {
    const params = SamplingParams.parse({ maxNewTokens: 12, stopAtEndOfText: false })
    const preview = generateCommand('/c', '', params)
    expect(parse(preview.command)).toEqual({ checkpoint: '/c', prompt: '', 'max-new-tokens': '12', greedy: true })
    expect(preview.notes).toHaveLength(1)
  })
})
