// gptw generate: the seed's generation modes on the command line, in this process (no workbench):
//   --config FILE                        mode, checkpoint, sampling, input and output files (JSON/YAML;
//                                        the seed's generate_configs keys are accepted too)
//   --checkpoint DIR --prompt "..."      one continuation, streamed to stdout
//   --checkpoint DIR --input FILE        input-file mode (one output line per prompt)
//   --checkpoint DIR --samples N         unconditional mode
//   --checkpoint DIR                     an interactive console on a terminal
//   --engine pytorch [--device gpu:0]    any of these on the PyTorch engine (a model server process)
//   --engine pytorch --devices LIST      the batch modes on a model server per device, samples spread
//                                        over them (the same lines, in the same order, as on one)
// Flags given beside --config override the file. Ctrl+C stops the generation in progress.
import path from 'node:path'
import readline from 'node:readline'
import { parseArgs } from 'node:util'
import { describeZodError } from '../../shared/api'
import { GenerateConfig, normalizeGenerateConfig } from '../../shared/generate'
import { describeBackend, initBackend } from '../../core/engine/backend'
import { resolveEvalEngine, torchPython } from '../../core/eval/engine/torch-model'
import { type GenerationOutput, Generator, type ModelShape } from '../../core/generate/generator'
import { loadForGeneration } from '../../core/generate/load'
import { type BatchGenerators, generateFromFile, generateUnconditional } from '../../core/generate/modes'
import { startTorchGenerator, startTorchGenerators } from '../../core/generate/torch-decoder'
import { DeviceId, EngineChoice, TorchDtypeChoice } from '../../shared/config/train'
import { UsageError, devicesFlag, intFlag, numberFlag } from './args'
import { readConfigFile } from './config-file'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = {
  config: { type: 'string' },
  checkpoint: { type: 'string' },
  prompt: { type: 'string' },
  input: { type: 'string' },
  output: { type: 'string' },
  samples: { type: 'string' },
  greedy: { type: 'boolean' },
  'max-new-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'top-k': { type: 'string' },
  'top-p': { type: 'string' },
  'repetition-penalty': { type: 'string' },
  seed: { type: 'string' },
  stop: { type: 'string', multiple: true },
  backend: { type: 'string' },
  engine: { type: 'string' },
  device: { type: 'string' },
  devices: { type: 'string' },
  dtype: { type: 'string' },
  json: { type: 'boolean' }
} as const

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS }>>['values']

export async function generate(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  const config = buildConfig(values)
  const engine = EngineChoice.safeParse(values.engine ?? 'embedded')
  if (!engine.success) throw new UsageError(`--engine is embedded, pytorch or auto, not ${values.engine}.`)
  if (values.device !== undefined && values.devices !== undefined) throw new UsageError('Give --device (one) or --devices (a list), not both.')
  const device = DeviceId.safeParse(values.device ?? 'cpu:0')
  if (!device.success) throw new UsageError(`--device looks like cpu:0 or gpu:1, not ${values.device}.`)
  // --devices as serve-model's and eval's: one model server per entry
  const devices = values.devices === undefined ? [device.data] : devicesFlag(values.devices)
  const dtype = TorchDtypeChoice.safeParse(values.dtype ?? 'auto')
  if (!dtype.success) throw new UsageError(`--dtype is auto, float32 or bfloat16, not ${values.dtype}.`)
  const pytorch = (await resolveEvalEngine({ engine: engine.data, devices })) === 'pytorch'
  if (devices.length > 1) {
    if (!pytorch) throw new UsageError('Several --devices go with --engine pytorch (or auto with GPUs): the embedded engine generates in this process.')
    if (values.prompt !== undefined || config.mode === 'interactive')
      throw new UsageError('Several --devices spread the batch modes (--samples N, --input FILE); --prompt and the console run on one device (--device).')
    const torch = await startTorchGenerators(config.checkpoint, { devices, dtype: dtype.data, python: (await torchPython()).python })
    const i = torch.servers[0].info
    if (!values.json) console.error(`${config.checkpoint}: ${i.nLayer} layers x ${i.nEmbd}, context ${i.nCtx}; PyTorch engine (torch ${i.torch}) on ${devices.join(', ')}, ${i.dtype}`)
    try {
      return await batch(torch.lanes, config, !!values.json)
    } finally {
      await torch.close()
    }
  }
  if (pytorch) {
    const torch = await startTorchGenerator(config.checkpoint, { device: devices[0], dtype: dtype.data, python: (await torchPython()).python })
    const i = torch.server.info
    if (!values.json) console.error(`${config.checkpoint}: ${i.nLayer} layers x ${i.nEmbd}, context ${i.nCtx}; PyTorch engine (torch ${i.torch}) on ${i.device}, ${i.dtype}`)
    try {
      return await run(torch.generator, config, values)
    } finally {
      await torch.close()
    }
  }
  const backend = await initBackend(config.backend)
  const model = loadForGeneration(config.checkpoint)
  const generator = new Generator(model)
  if (!values.json) console.error(`${config.checkpoint}: ${model.config.nLayer} layers x ${model.config.nEmbd}, context ${model.config.nCtx}; ${describeBackend(backend)}`)
  try {
    return await run(generator, config, values)
  } finally {
    generator.dispose()
    model.dispose()
  }
}

function run(generator: Generator<ModelShape>, config: GenerateConfig, values: Values): Promise<number> {
  if (values.prompt !== undefined) return oneShot(generator, config, values.prompt, !!values.json)
  if (config.mode === 'interactive') return interactive(generator, config)
  return batch(generator, config, !!values.json)
}

function buildConfig(values: Values): GenerateConfig {
  const raw = values.config ? (normalizeGenerateConfig(readConfigFile(path.resolve(values.config))) as Record<string, unknown>) : {}
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`Config file ${values.config} must hold an object of settings.`)
  const base = values.config ? path.dirname(path.resolve(values.config)) : process.cwd()
  const sampling = { ...((raw.sampling as Record<string, unknown> | undefined) ?? {}) }
  const num = (flag: keyof Values, key: string, min: number, max: number, int = false): void => {
    const v = values[flag] as string | undefined
    if (v !== undefined) sampling[key] = int ? intFlag(v, flag, 0, min, max) : numberFlag(v, flag, 0, min, max)
  }
  num('max-new-tokens', 'maxNewTokens', 1, 8192, true)
  num('temperature', 'temperature', 0, 10)
  num('top-k', 'topK', 0, 1 << 20, true)
  num('top-p', 'topP', 0, 1)
  num('repetition-penalty', 'repetitionPenalty', 0.05, 20)
  num('seed', 'seed', 0, 2 ** 32 - 1, true)
  if (values.stop) sampling.stop = values.stop.map((s) => s.replace(/\\n/g, '\n'))
  if (values.greedy) Object.assign(sampling, { temperature: 0, topK: 0, topP: 0 })
  const merged: Record<string, unknown> = { ...raw, sampling }
  if (values.checkpoint) merged.checkpoint = values.checkpoint
  if (values.backend) merged.backend = values.backend
  if (values.input) Object.assign(merged, { mode: 'input-file', inputFile: values.input })
  if (values.samples) Object.assign(merged, { mode: 'unconditional', numSamples: intFlag(values.samples, 'samples', 1, 1, 100_000) })
  if (values.output) merged.outputFile = values.output
  if (!values.config && !values.input && !values.samples && values.prompt === undefined) merged.mode = 'interactive'
  if (!merged.checkpoint) throw new UsageError('generate needs --checkpoint DIR (or a config file naming one with --config FILE).')
  const parsed = GenerateConfig.safeParse(merged)
  if (!parsed.success) throw new UsageError(`${values.config ?? 'generate'}: ${describeZodError(parsed.error)}`)
  const c = parsed.data
  const resolve = (p: string | undefined): string | undefined => (p === undefined ? undefined : path.resolve(base, p))
  return { ...c, checkpoint: resolve(c.checkpoint)!, inputFile: resolve(c.inputFile), outputFile: resolve(c.outputFile) }
}

/** Streams one continuation to stdout; Ctrl+C stops it and keeps what was made. */
async function oneShot(generator: Generator<ModelShape>, config: GenerateConfig, prompt: string, json: boolean): Promise<number> {
  let stop = false
  const onSignal = (): void => {
    stop = true
  }
  process.once('SIGINT', onSignal)
  try {
    const result = await generator.generate({ text: prompt }, config.sampling, {
      onText: json ? undefined : (d) => process.stdout.write(d),
      onNotice: json ? undefined : (m) => process.stderr.write(`\n[${m}]\n`),
      shouldStop: () => stop
    })
    if (json) console.log(JSON.stringify({ ...withoutIds(result), parameters: config.sampling }))
    else {
      process.stdout.write('\n')
      console.error(summaryLine(result))
    }
    return 0
  } finally {
    process.off('SIGINT', onSignal)
  }
}

async function batch(generators: BatchGenerators, config: GenerateConfig, json: boolean): Promise<number> {
  const input = config.inputFile
  if (config.mode === 'input-file' && !input) throw new UsageError('input-file mode needs an input file (--input FILE or inputFile in the config).')
  const output = config.outputFile ?? (config.mode === 'input-file' ? `${input}.output.jsonl` : path.resolve('samples.jsonl'))
  let stop = false
  const onSignal = (): void => {
    stop = true
    console.error('\nStopping after this sample; the output keeps the samples made so far.')
  }
  process.once('SIGINT', onSignal)
  const hooks = {
    log: (text: string) => console.error(text),
    progress: (_d: number, _t: number, text: string) => (json ? undefined : console.error(text)),
    shouldStop: () => stop
  }
  try {
    const summary =
      config.mode === 'input-file'
        ? await generateFromFile(generators, config.sampling, input!, output, hooks)
        : await generateUnconditional(generators, config.sampling, config.numSamples, output, hooks)
    if (json) console.log(JSON.stringify(summary))
    else {
      const skipped = summary.skipped.length ? `; skipped line(s) ${summary.skipped.map((s) => s.line).join(', ')}` : ''
      const spread = summary.devices ? `; samples per device: ${summary.devices.map((d) => `${d.device} ${d.samples}`).join(', ')}` : ''
      console.error(`Wrote ${summary.written} output line(s) to ${summary.outputFile}${skipped}${spread}.`)
    }
    return summary.written > 0 || summary.skipped.length === 0 ? 0 : 1
  } finally {
    process.off('SIGINT', onSignal)
  }
}

/** A console: each line typed is a prompt; its continuation streams back. Ctrl+C stops a generation, or leaves at the prompt. */
async function interactive(generator: Generator<ModelShape>, config: GenerateConfig): Promise<number> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: '> ' })
  let busy = false
  let stop = false
  rl.on('SIGINT', () => {
    if (busy) stop = true
    else rl.close()
  })
  console.error('Type a prompt and press Enter (Ctrl+C stops a generation; Ctrl+C or Ctrl+D at the prompt leaves).')
  rl.prompt()
  let n = 0
  for await (const line of rl) {
    busy = true
    stop = false
    const result = await generator.generate(
      { text: line },
      { ...config.sampling, seed: (config.sampling.seed + n++) >>> 0 },
      {
        onText: (d) => process.stdout.write(d),
        onNotice: (m) => process.stderr.write(`\n[${m}]\n`),
        shouldStop: () => stop
      }
    )
    busy = false
    process.stdout.write('\n')
    console.error(summaryLine(result))
    rl.prompt()
  }
  return 0
}

function summaryLine(r: GenerationOutput): string {
  const rate = r.length / Math.max(r.duration_seconds, 1e-9)
  return `[${r.length} tokens in ${r.duration_seconds.toFixed(2)} s, ${rate.toFixed(1)} tokens/s; ended: ${r.stopReason}]`
}

function withoutIds(r: GenerationOutput): Omit<GenerationOutput, 'ids'> {
  const { ids: _ids, ...rest } = r
  return rest
}
