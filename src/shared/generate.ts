// Generation contracts shared by main, renderer and workers: sampling parameters and presets, the
// config of `gptw generate --config`, the records kept in history, and the messages a generation
// worker exchanges with main.
import { z } from 'zod'
import { BackendChoice, DeviceId, EngineChoice, TorchDtypeChoice } from './config/train'

/**
 * How tokens are chosen. Greedy (argmax) when temperature is 0; otherwise, as the seed's
 * generate.py: logits / temperature, then top-k, then top-p (nucleus), then a draw from what is
 * left. topK 0 and topP 0 (or 1) switch those filters off. The seed makes a draw reproducible.
 */
export const SamplingParams = z.strictObject({
  maxNewTokens: z.number().int().min(1).max(8192).default(64),
  temperature: z.number().min(0).max(10).default(0),
  topK: z
    .number()
    .int()
    .min(0)
    .max(1 << 20)
    .default(0),
  topP: z.number().min(0).max(1).default(0),
  /** CTRL-style: logits of tokens already in the context are divided (if positive) or multiplied (if negative) by this; 1 is off. */
  repetitionPenalty: z.number().min(0.05).max(20).default(1),
  /** Generation ends when the text contains one of these; the stop text itself is not kept. */
  stop: z.array(z.string().min(1).max(200)).max(16).default([]),
  /** End at the end-of-text token (the seed always does). */
  stopAtEndOfText: z.boolean().default(true),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .default(42)
})
export type SamplingParams = z.infer<typeof SamplingParams>
export type SamplingParamsInput = z.input<typeof SamplingParams>

export const SAMPLING_PRESETS = {
  precise: { temperature: 0.3, topK: 20, topP: 0.5, repetitionPenalty: 1.15 },
  balanced: { temperature: 0.8, topK: 40, topP: 0.9, repetitionPenalty: 1.1 },
  creative: { temperature: 1.1, topK: 0, topP: 0.97, repetitionPenalty: 1 }
} as const satisfies Record<string, Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>>
export type SamplingPresetName = keyof typeof SAMPLING_PRESETS

export const GENERATION_MODES = ['unconditional', 'input-file', 'interactive'] as const

/** `gptw generate --config FILE`: the seed's generation config, in this project's names. */
export const GenerateConfig = z.strictObject({
  mode: z.enum(GENERATION_MODES).default('unconditional'),
  /** A run's checkpoint folder or a Hugging Face GPT-2 folder (config.json + model.safetensors). */
  checkpoint: z.string().min(1, 'checkpoint (a folder) is required'),
  /** Unconditional mode: how many samples, each from end-of-text with seed + i. */
  numSamples: z.number().int().min(1).max(100_000).default(1),
  /** Input-file mode: text lines, or JSONL with {"text"} (or "prompt" / "context") per line. */
  inputFile: z.string().min(1).optional(),
  /** JSONL output; default <inputFile>.output.jsonl, or samples.jsonl beside the config. */
  outputFile: z.string().min(1).optional(),
  backend: BackendChoice.default('auto'),
  sampling: SamplingParams.prefault({})
})
export type GenerateConfig = z.infer<typeof GenerateConfig>

/** The seed's generate_configs keys, mapped onto GenerateConfig so its files load as they are. */
const SEED_KEYS: Record<string, string> = {
  text_gen_type: 'mode',
  maximum_tokens: 'maxNewTokens',
  num_samples: 'numSamples',
  sample_input_file: 'inputFile',
  sample_output_file: 'outputFile',
  top_k: 'topK',
  top_p: 'topP',
  temperature: 'temperature',
  repetition_penalty: 'repetitionPenalty',
  load: 'checkpoint',
  seed: 'seed'
}
const SAMPLING_KEYS = new Set(Object.keys(SamplingParams.shape))

/** Accepts a config in our shape, flat sampling keys, or the seed's snake_case keys. */
export function normalizeGenerateConfig(raw: unknown): unknown {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw
  const out: Record<string, unknown> = {}
  const sampling: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const name = SEED_KEYS[key] ?? key
    if (name === 'sampling' && value && typeof value === 'object') Object.assign(sampling, value)
    else if (SAMPLING_KEYS.has(name)) sampling[name] = value
    else out[name] = value
  }
  if (out.mode === 'input_file' || out.mode === 'input-file') out.mode = 'input-file'
  if (Object.keys(sampling).length) out.sampling = sampling
  return out
}

/** One generated token as the per-token view shows it: its probability under the model and the likeliest alternatives. */
export const TokenInfo = z.strictObject({
  id: z.number().int().nonnegative(),
  piece: z.string(),
  /** The model's probability of this token (softmax of its logits, before sampling filters). */
  prob: z.number().min(0).max(1),
  top: z.array(z.strictObject({ id: z.number().int().nonnegative(), piece: z.string(), prob: z.number().min(0).max(1) })).max(20)
})
export type TokenInfo = z.infer<typeof TokenInfo>

export const STOP_REASONS = ['end-of-text', 'stop-sequence', 'max-tokens', 'stopped', 'error'] as const
export type StopReason = (typeof STOP_REASONS)[number]

/** What one generation produced (the seed's output fields, plus why it ended). */
export const GenerationResult = z.strictObject({
  context: z.string(),
  text: z.string(),
  /** Generated tokens. */
  length: z.number().int().nonnegative(),
  /** Ended on its own (end-of-text or a stop sequence), not cut by the token limit or a stop. */
  finished: z.boolean(),
  stopReason: z.enum(STOP_REASONS),
  /** A notice (the context was cut to the window) or an error; null when there is none. */
  message: z.string().nullable(),
  duration_seconds: z.number().nonnegative(),
  promptTokens: z.number().int().nonnegative()
})
export type GenerationResult = z.infer<typeof GenerationResult>

/** The generation worker's job parameters: one loaded model, serving requests until unloaded. */
export const GenerateWorkerParams = z.strictObject({
  checkpoint: z.string().min(1),
  backend: BackendChoice.default('auto'),
  /** Which engine generates: embedded (tfjs + native kernels, in the worker) or pytorch (a model server process, python/gptw_torch/serve.py); auto: pytorch when the device is a GPU and torch has CUDA. */
  engine: EngineChoice.default('embedded'),
  /** The PyTorch engine's device (one model server). */
  device: DeviceId.default('cpu:0'),
  /** The PyTorch engine's dtype: auto is bfloat16 on a CUDA GPU with bf16, else float32; bfloat16 on the CPU is refused. */
  dtype: TorchDtypeChoice.default('auto'),
  /** The PyTorch engine's interpreter; else GPTW_PYTHON, else python3 on PATH. */
  python: z.string().min(1).max(4096).optional()
})
export type GenerateWorkerParams = z.infer<typeof GenerateWorkerParams>

/** Main -> generation worker. */
export const GenerateRequestMessage = z.strictObject({
  type: z.literal('generate'),
  requestId: z.string().min(1).max(100),
  prompt: z.string().max(1_000_000),
  params: SamplingParams
})
export const GenerateStopMessage = z.strictObject({ type: z.literal('generate-stop'), requestId: z.string().min(1).max(100) })
/** Ends the worker's job normally (state done). */
export const UnloadMessage = z.strictObject({ type: z.literal('unload') })
/** Starts the OpenAI-compatible API (src/core/serve-api) over the loaded model, on 127.0.0.1, with a key main made. */
export const ServeStartMessage = z.strictObject({ type: z.literal('serve-start'), port: z.number().int().min(0).max(65535), apiKey: z.string().min(16).max(200) })
export const ServeStopMessage = z.strictObject({ type: z.literal('serve-stop') })

export interface LoadedModelInfo {
  nLayer: number
  nHead: number
  nEmbd: number
  nCtx: number
  vocabSize: number
  parameters: number
  backend: string
  /** The engine that loaded it and, on PyTorch, the weights' dtype (absent from workers before the engine choice). */
  engine?: 'embedded' | 'pytorch'
  dtype?: string
  /** The bytes the loaded weights take in that dtype (bfloat16: 2 a parameter, float32: 4), counted from the engine's tensors. */
  weightBytes?: number
}

/** What a loaded model's weights take, as the Loaded models list says it ("24.6 MiB, bfloat16"): the
 * engine's count of its tensors' bytes; from a worker that did not send one, the parameters at the
 * dtype's width (bfloat16 2 bytes, float32 4). Activations and the KV cache come on top. */
export function weightsLabel(m: LoadedModelInfo): string {
  const dtype = m.dtype ?? 'float32'
  const bytes = m.weightBytes ?? m.parameters * (dtype === 'bfloat16' || dtype === 'float16' ? 2 : 4)
  const mib = bytes / 2 ** 20
  return `${mib.toFixed(mib < 10 ? 1 : 0)} MiB, ${dtype}`
}

/** Generation worker -> main, inside a { type: 'generation' } message. */
export const GenerationWorkerEvent = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('ready'),
    model: z.strictObject({
      nLayer: z.number(),
      nHead: z.number(),
      nEmbd: z.number(),
      nCtx: z.number(),
      vocabSize: z.number(),
      parameters: z.number(),
      backend: z.string(),
      engine: z.enum(['embedded', 'pytorch']).optional(),
      dtype: z.string().optional(),
      weightBytes: z.number().optional()
    })
  }),
  z.strictObject({ kind: z.literal('tokens'), requestId: z.string(), tokens: z.array(TokenInfo), text: z.string() }),
  z.strictObject({ kind: z.literal('notice'), requestId: z.string(), message: z.string() }),
  z.strictObject({ kind: z.literal('done'), requestId: z.string(), result: GenerationResult }),
  z.strictObject({ kind: z.literal('error'), requestId: z.string(), message: z.string() }),
  /** The API is up (first report) and its counters since (sent when they change). */
  z.strictObject({
    kind: z.literal('serving'),
    url: z.string(),
    modelId: z.string(),
    requests: z.number(),
    active: z.number(),
    errors: z.number(),
    promptTokens: z.number(),
    completionTokens: z.number()
  }),
  /** The API stopped (asked to, or the model unloaded); message: why it could not start, else null. */
  z.strictObject({ kind: z.literal('serve-stopped'), message: z.string().nullable() })
])
export type GenerationWorkerEvent = z.infer<typeof GenerationWorkerEvent>

export const GENERATION_STATES = ['running', 'done', 'stopped', 'failed'] as const
export type GenerationState = (typeof GENERATION_STATES)[number]

/** A generation as history keeps it. */
export interface GenerationRecord {
  id: number
  checkpoint: string
  prompt: string
  params: SamplingParams
  text: string
  state: GenerationState
  stopReason: StopReason | null
  tokens: number
  durationSeconds: number | null
  message: string | null
  /** Generations started together to compare checkpoints share this. */
  compareGroup: string | null
  jobId: number | null
  createdAt: number
  /** Per-token detail; only from generate.get and live events. */
  tokenInfo?: TokenInfo[]
}

/** A checkpoint the picker offers: a run's kept checkpoint. */
export interface GenerateCheckpoint {
  runId: number
  runName: string
  step: number
  path: string
  valLoss: number | null
  createdAt: number
}

/** A model loaded in a generation worker. */
export interface ModelSession {
  checkpoint: string
  jobId: number
  state: 'loading' | 'ready' | 'failed' | 'unloaded'
  model: LoadedModelInfo | null
  error: string | null
  /** The OpenAI-compatible API over this model, when it is switched on (or why it could not start). */
  serve: ServeInfo | null
}

export interface ServeInfo {
  state: 'starting' | 'serving' | 'failed'
  /** The base URL of the API (http://127.0.0.1:PORT/v1) once it is up. */
  baseUrl: string | null
  /** The model id requests name. */
  modelId: string | null
  /** Every request needs `Authorization: Bearer <apiKey>`. */
  apiKey: string
  requests: number
  active: number
  errors: number
  promptTokens: number
  completionTokens: number
  message: string | null
}

/** Pushed to clients as { event: 'generation' }. */
export type GenerationEvent =
  | { type: 'started'; record: GenerationRecord }
  | { type: 'tokens'; id: number; tokens: TokenInfo[]; text: string }
  | { type: 'notice'; id: number; message: string }
  | { type: 'finished'; record: GenerationRecord }
  | { type: 'model'; session: ModelSession }

export const GenerateStartInput = z.strictObject({
  checkpoint: z.string().min(1, 'pick a checkpoint'),
  prompt: z.string().max(1_000_000).default(''),
  params: SamplingParams.prefault({}),
  compareGroup: z.string().min(1).max(100).optional()
})
