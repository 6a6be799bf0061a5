// The command behind a click: the `gptw train | eval | generate` command line that does what a
// view is about to do (or what a run did), with the config file it reads. Pure functions, shared
// by the views and their tests; the flags are the CLI's own (src/main/cli/help.ts lists them and
// test/commands.test.ts checks every flag used here is one of them). YAML is stringified by the
// caller (src/shared stays free of packages other than zod).
import type { EvalConfigInput } from './config/eval'
import type { TrainConfig } from './config/train'
import type { SamplingParams } from './generate'

export interface CommandPreview {
  /** One command line, quoted for a POSIX shell. */
  command: string
  /** The config file the command reads, to be saved under `name` beside where it runs; null when the command needs none. */
  file: { name: string; text: string } | null
  /** The file and the command as one pasteable shell script (a here-document, then the command). */
  script: string
  /** What the command cannot say (a setting the CLI has no flag for), one line each. */
  notes: string[]
}

const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/

/** Quotes one argument for a POSIX shell: bare when it is safe, else in single quotes ('\'' for a quote). */
export function shellQuote(arg: string): string {
  if (arg !== '' && SAFE_WORD.test(arg)) return arg
  return `'${arg.replace(/'/g, `'\\''`)}'`
}

/** A file name from a config's name: lower case, letters, digits and dashes. */
export function configFileName(prefix: string, name: string | undefined, ext = 'yaml'): string {
  const slug = (name ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
  return `${prefix}${slug ? `-${slug}` : ''}.${ext}`
}

const HEREDOC_END = 'GPTW_CONFIG'

function withFile(command: string, file: CommandPreview['file']): string {
  if (!file) return command
  const text = file.text.endsWith('\n') ? file.text : `${file.text}\n`
  return `cat > ${shellQuote(file.name)} <<'${HEREDOC_END}'\n${text}${HEREDOC_END}\n${command}`
}

const join = (words: string[]): string => words.map(shellQuote).join(' ')

/**
 * `gptw train --config FILE` for a training config: the file holds the whole config (model,
 * data, devices, engine, seed), so the CLI trains what the Train view would. `stringify` is
 * YAML.stringify (or JSON with a .json name).
 */
export function trainCommand(config: TrainConfig, stringify: (value: unknown) => string, fileName = configFileName('train', config.name)): CommandPreview {
  const file = { name: fileName, text: stringify(config) }
  const command = join(['gptw', 'train', '--config', file.name])
  return { command, file, script: withFile(command, file), notes: [] }
}

/** The command continuing a run from a kept checkpoint (its latest one when `step` is left out). */
export function resumeCommand(runId: number, step?: number): string {
  return join(['gptw', 'train', '--resume', String(runId), ...(step !== undefined ? ['--step', String(step)] : [])])
}

/** `gptw eval --config FILE` for the Evaluate view's settings (the file's keys are EvalConfig's). */
export function evalCommand(config: EvalConfigInput, stringify: (value: unknown) => string, fileName = 'eval.yaml'): CommandPreview {
  const file = { name: fileName, text: stringify(config) }
  const command = join(['gptw', 'eval', '--config', file.name])
  return { command, file, script: withFile(command, file), notes: [] }
}

/**
 * `gptw generate --checkpoint DIR --prompt TEXT ...` for one checkpoint and the sampling settings:
 * --greedy at temperature 0 (the CLI's greedy also zeroes top-k and top-p, which greedy decoding
 * ignores); otherwise the temperature, top-k / top-p where set, and the seed. Defaults the CLI
 * shares (repetition penalty 1, no stop texts) are left out.
 */
/** engine: the Generate view's engine choice (left out for the embedded engine, the CLI's default). */
export function generateCommand(checkpoint: string, prompt: string, params: SamplingParams, engine?: { engine: string; device: string; dtype: string }): CommandPreview {
  const words = ['gptw', 'generate', '--checkpoint', checkpoint, '--prompt', prompt, '--max-new-tokens', String(params.maxNewTokens)]
  if (engine && engine.engine !== 'embedded') words.push('--engine', engine.engine, '--device', engine.device, ...(engine.dtype === 'auto' ? [] : ['--dtype', engine.dtype]))
  if (params.temperature === 0) words.push('--greedy')
  else {
    words.push('--temperature', String(params.temperature))
    if (params.topK > 0) words.push('--top-k', String(params.topK))
    if (params.topP > 0) words.push('--top-p', String(params.topP))
    words.push('--seed', String(params.seed))
  }
  if (params.repetitionPenalty !== 1) words.push('--repetition-penalty', String(params.repetitionPenalty))
  // The CLI reads \n in a stop text as a newline.
  for (const s of params.stop) words.push('--stop', s.replace(/\n/g, '\\n'))
  const notes = params.stopAtEndOfText ? [] : ['The CLI always stops at end-of-text; "stop at end-of-text: off" has no flag.']
  const command = join(words)
  return { command, file: null, script: command, notes }
}
