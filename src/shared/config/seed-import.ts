// Imports the seed's Colossal-AI training configs (gpt2_configs/*.py, gpt3_configs/*.py) into a
// TrainConfig, listing for every setting whether it was mapped, approximated, or cannot be
// honoured by this engine (tensor / pipeline parallel, fp16, offload; ZeRO maps to `sharding`). Never runs Python.
import type { Preset } from '../presets'
import type { TrainConfigInput } from './train'
import { type PyDict, type PyModule, type PyValue, formatPyValue, parsePythonConfig } from './python-config'

export type SeedItemStatus = 'mapped' | 'approximated' | 'unsupported' | 'ignored'

export interface SeedImportItem {
  /** The seed's setting, e.g. "BATCH_SIZE" or "zero.offload_optimizer_config.device". */
  key: string
  line: number | null
  /** The seed's value as written (Python-like). */
  seed: string
  status: SeedItemStatus
  /** Where it went in our config, e.g. "optimizer.lr"; null when nothing was set. */
  target: string | null
  /** Our value, as JSON text, when one was set. */
  value: string | null
  note: string
}

export interface SeedImportResult {
  config: TrainConfigInput
  /** The preset whose model shape was used. */
  modelPreset: string
  items: SeedImportItem[]
  warnings: string[]
}

export interface SeedImportOptions {
  presets: Preset[]
  /** Train tokens of the chosen dataset: turns NUM_EPOCHS into steps. */
  trainTokens?: number
  /** The devices picked in the editor (the seed's BATCH_SIZE is per data-parallel process). */
  devices?: string[]
  dataset?: string
}

/** The seed's model_zoo / titans model builders and our presets of the same shape. */
const MODEL_PRESETS: [RegExp, string][] = [
  [/^gpt2_small/i, 'gpt2-small'],
  [/^gpt2_medium/i, 'gpt2-medium'],
  [/^gpt2_large/i, 'gpt2-large'],
  [/^gpt2_xl/i, 'gpt2-xl'],
  [/^gpt3$/i, 'gpt3']
]
/** Keyword arguments of the seed's model builders that set the shape. */
const MODEL_KWARGS: Record<string, string> = {
  hidden_size: 'nEmbd',
  depth: 'nLayer',
  num_layers: 'nLayer',
  num_heads: 'nHead',
  num_attention_heads: 'nHead',
  max_position_embeddings: 'nCtx',
  vocab_size: 'vocabSize',
  dropout: 'dropout',
  drop_rate: 'dropout',
  embed_drop_rate: 'dropout',
  layernorm_epsilon: 'layerNormEps'
}
/** The seed's module-level shape constants (its configs pass them to the model builder) and the model field each sets. */
const SHAPE_CONSTANTS: Record<string, string> = {
  HIDDEN_SIZE: 'nEmbd',
  NUM_ATTENTION_HEADS: 'nHead',
  NUM_HEADS: 'nHead',
  DEPTH: 'nLayer',
  NUM_LAYERS: 'nLayer',
  VOCAB_SIZE: 'vocabSize'
}
/** Adam-family optimizers whose update this engine's AdamW reproduces. */
const ADAM_TYPES = new Set(['Adam', 'AdamW', 'HybridAdam', 'CPUAdam', 'FusedAdam', 'DeepSpeedCPUAdam'])
/** Constants the seed's configs define only to build other values (parallel sizes, pipeline shapes). */
const HELPER_CONSTANTS = new Set(['TENSOR_SHAPE', 'HIDDEN_SIZE', 'TENSOR_PARALLEL', 'PIPELINE', 'MODE', 'DEPTH'])
/** The seed's LinearWarmupLR: 5 warm-up epochs (train_gpt.py), then linear decay to 0. */
const SEED_WARMUP_EPOCHS = 5

type Draft = TrainConfigInput & {
  model: NonNullable<TrainConfigInput['model']>
  optimizer: NonNullable<TrainConfigInput['optimizer']>
  schedule: NonNullable<TrainConfigInput['schedule']>
}

export function importSeedConfig(source: string, fileName: string, options: SeedImportOptions): SeedImportResult {
  const module = parsePythonConfig(source)
  return new SeedMapper(module, fileName, options).run()
}

class SeedMapper {
  private readonly items: SeedImportItem[] = []
  private readonly handled = new Set<string>()

  constructor(
    private readonly py: PyModule,
    private readonly fileName: string,
    private readonly options: SeedImportOptions
  ) {}

  run(): SeedImportResult {
    const { draft, presetName } = this.model()
    this.shapeConstants(draft)
    this.batch(draft)
    this.optimizer(draft)
    this.epochs(draft)
    this.fp16(draft)
    this.zero(draft)
    this.parallel(draft)
    this.loss()
    this.rest(draft)
    this.added(draft, presetName)
    const order: SeedItemStatus[] = ['mapped', 'approximated', 'unsupported', 'ignored']
    const lines = (i: SeedImportItem): number => i.line ?? Number.MAX_SAFE_INTEGER
    this.items.sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || lines(a) - lines(b))
    return { config: draft, modelPreset: presetName, items: this.items, warnings: this.py.warnings }
  }

  private get(name: string): PyValue | undefined {
    return this.py.assignments.get(name)?.value
  }

  private line(name: string): number | null {
    return this.py.assignments.get(name.split('.')[0])?.line ?? null
  }

  private add(key: string, seed: PyValue, status: SeedItemStatus, target: string | null, value: unknown, note: string): void {
    this.handled.add(key.split('.')[0])
    this.items.push({
      key,
      line: this.line(key),
      seed: formatPyValue(seed),
      status,
      target,
      value: value === undefined ? null : JSON.stringify(value),
      note
    })
  }

  private preset(name: string): Preset {
    const preset = this.options.presets.find((p) => p.name === name)
    if (!preset) throw new Error(`The preset "${name}" is missing, so the seed's model shape cannot be filled in.`)
    return preset
  }

  private model(): { draft: Draft; presetName: string } {
    const model = this.get('model')
    let presetName = 'gpt2-small'
    const typeName = isDict(model) ? refName(model.entries.type) : null
    const known = typeName ? MODEL_PRESETS.find(([re]) => re.test(typeName.split('.').at(-1)!)) : undefined
    if (known) presetName = known[1]
    const base = this.preset(presetName).config
    const draft: Draft = {
      name: `${this.fileName.replace(/\.py$/, '')} (seed config)`,
      model: { ...base.model },
      batchSize: base.batchSize,
      microBatches: 1,
      steps: base.steps,
      optimizer: { ...base.optimizer },
      schedule: { ...base.schedule },
      eval: { ...base.eval },
      checkpoint: { ...base.checkpoint },
      seed: 42,
      backend: 'auto',
      devices: this.options.devices?.length ? [...this.options.devices] : ['cpu:0'],
      parallel: { tensor: 1, pipeline: 1 },
      ...(this.options.dataset ? { dataset: this.options.dataset } : {})
    }
    if (!isDict(model)) {
      this.items.push({
        key: 'model',
        line: null,
        seed: '(missing)',
        status: 'approximated',
        target: 'model',
        value: JSON.stringify(draft.model),
        note: `No model dict: the ${presetName} preset's shape is used.`
      })
      return { draft, presetName }
    }
    const shape = `${draft.model.nLayer} layers x ${draft.model.nEmbd} wide, ${draft.model.nHead} heads`
    if (known)
      this.add(
        'model.type',
        model.entries.type,
        'mapped',
        'model',
        { nLayer: draft.model.nLayer, nHead: draft.model.nHead, nEmbd: draft.model.nEmbd },
        `${typeName} is the ${presetName} preset's shape: ${shape}.`
      )
    else
      this.add(
        'model.type',
        model.entries.type ?? raw('(missing)'),
        'unsupported',
        'model',
        { nLayer: draft.model.nLayer, nHead: draft.model.nHead, nEmbd: draft.model.nEmbd },
        `Unknown model builder ${typeName ?? ''}: its shape is not known here, so the gpt2-small shape (${shape}) was used; set the model fields by hand.`
      )
    for (const [key, value] of Object.entries(model.entries)) {
      if (key === 'type') continue
      const target = MODEL_KWARGS[key]
      if (target && typeof value === 'number') {
        ;(draft.model as Record<string, number>)[target] = value
        this.add(`model.${key}`, value, 'mapped', `model.${target}`, value, 'Model shape argument.')
      } else if (key === 'checkpoint') {
        if (value === true) draft.activationCheckpointing = true
        this.add(
          'model.checkpoint',
          value,
          value === true ? 'mapped' : 'ignored',
          value === true ? 'activationCheckpointing' : null,
          value === true ? true : undefined,
          value === true ? 'Activation checkpointing per block: each block keeps only its input and recomputes its forward in the backward pass (the embedded engine).' : 'Off in the seed too.'
        )
      } else if (key === 'dtype') {
        this.add('model.dtype', value, 'unsupported', null, undefined, 'Half-precision weights are not supported: the model trains in float32.')
      } else if (key === 'num_chunks') {
        this.add('model.num_chunks', value, 'unsupported', null, undefined, 'Interleaved pipeline chunks need pipeline parallelism, which this engine does not do.')
      } else {
        this.add(`model.${key}`, value, 'ignored', null, undefined, 'A model builder argument this engine has no setting for.')
      }
    }
    return { draft, presetName }
  }

  /**
   * HIDDEN_SIZE, NUM_ATTENTION_HEADS, DEPTH / NUM_LAYERS and VOCAB_SIZE set the model's shape where
   * the model dict does not set the same field itself. DEPTH next to a 2.5D tensor layout whose
   * depth it is stays that layout's depth (the 2.5D cube), not a layer count.
   */
  private shapeConstants(draft: Draft): void {
    const model = this.get('model')
    const fromKwargs = new Set(isDict(model) ? Object.entries(model.entries).flatMap(([k, v]) => (MODEL_KWARGS[k] && typeof v === 'number' ? [MODEL_KWARGS[k]] : [])) : [])
    const parallel = this.get('parallel')
    const tensor = isDict(parallel) ? parallel.entries.tensor : undefined
    const mapped: string[] = []
    for (const [name, target] of Object.entries(SHAPE_CONSTANTS)) {
      const value = this.get(name)
      if (typeof value !== 'number') continue
      if (name === 'DEPTH' && isDict(tensor) && tensor.entries.mode === '2.5d' && tensor.entries.depth === value) continue // rest(): a helper constant
      if (fromKwargs.has(target)) {
        this.add(
          name,
          value,
          'mapped',
          `model.${target}`,
          (draft.model as Record<string, number>)[target],
          `The model dict sets ${target} itself (to ${(draft.model as Record<string, number>)[target]}); that value is used.`
        )
        continue
      }
      ;(draft.model as Record<string, number>)[target] = value
      this.add(name, value, 'mapped', `model.${target}`, value, 'Model shape constant.')
      mapped.push(`${name} -> ${target}`)
    }
    // an unknown builder's shape is no longer only the preset's guess
    const type = this.items.find((i) => i.key === 'model.type' && i.status === 'unsupported')
    if (type && mapped.length) {
      type.note += ` The seed's constants set part of it: ${mapped.join(', ')}.`
      type.value = JSON.stringify({ nLayer: draft.model.nLayer, nHead: draft.model.nHead, nEmbd: draft.model.nEmbd })
    }
  }

  private batch(draft: Draft): void {
    const seqLen = this.get('SEQ_LEN')
    if (typeof seqLen === 'number') {
      draft.model.nCtx = seqLen
      this.add(
        'SEQ_LEN',
        seqLen,
        'approximated',
        'model.nCtx',
        seqLen,
        'Context length. The seed cuts each document to SEQ_LEN and pads it (pads count in the loss); here training windows of SEQ_LEN tokens are cut from the packed token stream, so no compute goes to padding.'
      )
    }
    const devices = draft.devices?.length ?? 1
    const perProcess = this.get('BATCH_SIZE')
    const accumulation = this.get('gradient_accumulation')
    const ga = typeof accumulation === 'number' && accumulation > 1 ? accumulation : 1
    const micro = this.get('NUM_MICRO_BATCHES')
    if (typeof perProcess === 'number') {
      draft.batchSize = perProcess * devices * ga
      this.add(
        'BATCH_SIZE',
        perProcess,
        'mapped',
        'batchSize',
        draft.batchSize,
        `The seed's BATCH_SIZE is per data-parallel process; batchSize here is the whole step's batch: ${perProcess} x ${devices} device(s)${ga > 1 ? ` x ${ga} accumulation steps` : ''}.`
      )
    }
    if (ga > 1) this.add('gradient_accumulation', ga, 'mapped', 'microBatches', ga, 'Gradients of this many micro-batches are summed before each update.')
    if (typeof micro === 'number') {
      draft.microBatches = micro * ga
      this.add(
        'NUM_MICRO_BATCHES',
        micro,
        'approximated',
        'microBatches',
        draft.microBatches,
        'The seed splits each batch into micro-batches to fill its pipeline; here they are accumulated one after another on each device (same gradients, no pipeline).'
      )
    } else if (ga > 1) {
      draft.microBatches = ga
    }
  }

  private optimizer(draft: Draft): void {
    const opt = this.get('optimizer')
    if (!isDict(opt)) return
    const type = refName(opt.entries.type) ?? '(missing)'
    const short = type.split('.').at(-1)!
    if (ADAM_TYPES.has(short)) {
      const note =
        short === 'Adam'
          ? "torch's Adam adds weight decay to the gradient (L2); this engine's AdamW decays the weights directly (decoupled). Same without weight decay."
          : `${short} is Adam with decoupled weight decay, as here${short === 'HybridAdam' || short === 'CPUAdam' ? '; its CPU placement of optimizer state is not done (the state stays with the model)' : ''}.`
      this.add('optimizer.type', raw(type), short === 'Adam' ? 'approximated' : 'mapped', 'optimizer', 'AdamW', note)
    } else {
      this.add('optimizer.type', raw(type), 'unsupported', 'optimizer', 'AdamW', `${type} is not available: this engine trains with AdamW.`)
    }
    // torch's Adam defaults, which the seed's configs rely on by leaving them out.
    draft.optimizer.beta1 = 0.9
    draft.optimizer.beta2 = 0.999
    draft.optimizer.eps = 1e-8
    draft.optimizer.gradClip = 0
    draft.optimizer.minLr = 0
    for (const [key, value] of Object.entries(opt.entries)) {
      if (key === 'type') continue
      if (key === 'lr' && typeof value === 'number') {
        draft.optimizer.lr = value
        this.add('optimizer.lr', value, 'mapped', 'optimizer.lr', value, 'Peak learning rate.')
      } else if (key === 'weight_decay' && typeof value === 'number') {
        draft.optimizer.weightDecay = value
        this.add('optimizer.weight_decay', value, 'mapped', 'optimizer.weightDecay', value, 'Weight decay.')
      } else if (key === 'betas' && Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'number') {
        draft.optimizer.beta1 = value[0]
        draft.optimizer.beta2 = value[1]
        this.add('optimizer.betas', value, 'mapped', 'optimizer.beta1, beta2', value, 'Adam betas.')
      } else if (key === 'eps' && typeof value === 'number') {
        draft.optimizer.eps = value
        this.add('optimizer.eps', value, 'mapped', 'optimizer.eps', value, 'Adam epsilon.')
      } else {
        this.add(`optimizer.${key}`, value, 'unsupported', null, undefined, `The optimizer argument ${key} has no counterpart here.`)
      }
    }
    if (!('betas' in opt.entries))
      this.add('optimizer (betas, eps)', raw('(not set)'), 'mapped', 'optimizer.beta1, beta2, eps', [0.9, 0.999, 1e-8], "Not set in the seed, so torch's Adam defaults: betas (0.9, 0.999), eps 1e-8.")
  }

  private epochs(draft: Draft): void {
    const epochs = this.get('NUM_EPOCHS')
    if (typeof epochs !== 'number') return
    const tokensPerStep = (draft.batchSize ?? 1) * draft.model.nCtx
    const trainTokens = this.options.trainTokens
    if (trainTokens && trainTokens > 0) {
      draft.steps = Math.max(1, Math.floor((epochs * trainTokens) / tokensPerStep))
      this.add(
        'NUM_EPOCHS',
        epochs,
        'approximated',
        'steps',
        draft.steps,
        `${epochs} passes over the dataset's ${trainTokens.toLocaleString('en-US')} train tokens at ${tokensPerStep.toLocaleString('en-US')} tokens per step. The seed counts epochs in documents; here an epoch is the dataset's tokens once.`
      )
    } else {
      this.add(
        'NUM_EPOCHS',
        epochs,
        'approximated',
        'steps',
        draft.steps,
        `Epochs need the dataset's size: pick a dataset and import again, or set steps (${draft.steps} kept from the preset). Steps = epochs x train tokens / (batchSize x nCtx).`
      )
    }
    const warmup = Math.round((draft.steps! * SEED_WARMUP_EPOCHS) / epochs)
    draft.schedule = { decay: 'linear', warmupSteps: warmup }
    draft.optimizer.minLr = 0
    this.items.push({
      key: 'lr schedule',
      line: null,
      seed: `LinearWarmupLR(total_steps=NUM_EPOCHS, warmup_steps=${SEED_WARMUP_EPOCHS})`,
      status: 'approximated',
      target: 'schedule',
      value: JSON.stringify({ decay: 'linear', warmupSteps: warmup, minLr: 0 }),
      note: `train_gpt.py warms up for ${SEED_WARMUP_EPOCHS} of ${epochs} epochs, then decays linearly to 0, stepping once per epoch; here the same shape is stepped every step (${warmup} warm-up steps).`
    })
  }

  private fp16(draft: Draft): void {
    const fp16 = this.get('fp16')
    if (fp16 === undefined) return
    const mode = isDict(fp16) ? fp16.entries.mode : fp16
    this.add(
      'fp16',
      fp16,
      'unsupported',
      null,
      undefined,
      `Mixed precision (${mode !== undefined ? formatPyValue(mode) : 'on'}) is not supported: the model trains in float32, with about twice the seed's activation memory.`
    )
    const clip = isDict(fp16) ? fp16.entries.clip_grad_norm : undefined
    if (typeof clip === 'number') {
      draft.optimizer.gradClip = clip
      this.add('fp16.clip_grad_norm', clip, 'mapped', 'optimizer.gradClip', clip, 'Clip the global gradient norm.')
    }
  }

  private zero(draft: Draft): void {
    const zero = this.get('zero')
    if (zero === undefined) return
    if (!isDict(zero)) {
      this.add('zero', zero, 'unsupported', null, undefined, 'Not a dict: no ZeRO stage read; nothing is sharded.')
      return
    }
    const level = zero.entries.level
    const seed = raw(
      typeof level === 'number'
        ? `dict(level=${level}, ...)`
        : `dict(${Object.keys(zero.entries)
            .map((k) => `${k}=...`)
            .join(', ')})`
    )
    // Colossal-AI's dicts without a level (model_config / optimizer_config: ShardedModelV2) shard parameters, gradients and optimizer state: stage 3.
    const stage = typeof level === 'number' ? level : 3
    const named = typeof level === 'number' ? `ZeRO stage ${level}` : 'ZeRO (sharded parameters, gradients and optimizer state: stage 3)'
    const engine = `Sharding runs on the PyTorch engine: engine is set to pytorch${draft.activationCheckpointing ? ", which does not checkpoint activations (activationCheckpointing is the embedded engine's)" : ''}.`
    if (![1, 2, 3].includes(stage)) {
      this.add('zero', seed, 'unsupported', null, undefined, `${named} is not a ZeRO stage (1, 2 or 3); nothing is sharded.`)
    } else if (stage === 3 && (draft.devices ?? []).some((d) => d.startsWith('gpu:'))) {
      draft.sharding = 'full'
      draft.engine = 'pytorch'
      this.add('zero', seed, 'mapped', 'sharding', 'full', `${named}: FSDP FULL_SHARD shards parameters, gradients and optimizer state (needs CUDA and torch >= 2.0). ${engine}`)
    } else {
      draft.sharding = 'optimizer'
      draft.engine = 'pytorch'
      const why =
        stage === 1
          ? 'the optimizer state is split over the data-parallel processes, as in the seed.'
          : stage === 2
            ? 'Colossal-AI stage 2 also shards the gradients; here only the optimizer state is split over the data-parallel processes (ZeRO stage 1), each keeps whole gradients.'
            : 'full sharding (FSDP) needs CUDA GPUs and torch >= 2.0, and CPU devices are picked: only the optimizer state is split over the processes (ZeRO stage 1); pick GPUs and set sharding: full for stage 3.'
      this.add('zero', seed, stage === 1 ? 'mapped' : 'approximated', 'sharding', 'optimizer', `${named}: ${why} ${engine}`)
    }
    for (const [path, value] of walk(zero, 'zero')) {
      const key = path.split('.').at(-1)!
      if (key === 'device' && (value === 'nvme' || value === 'cpu')) {
        this.add(
          path,
          value,
          'unsupported',
          null,
          undefined,
          value === 'nvme' ? 'NVMe offload is not supported: everything stays in device memory.' : 'CPU offload is not supported: everything stays in device memory.'
        )
      } else if ((key === 'cpu_offload' && value === true) || (key === 'tensor_placement_policy' && (value === 'cpu' || value === 'auto'))) {
        this.add(path, value, 'unsupported', null, undefined, 'Offloading to CPU memory is not supported.')
      } else if (key === 'clip_grad' && typeof value === 'number') {
        draft.optimizer.gradClip = value
        this.add(path, value, 'mapped', 'optimizer.gradClip', value, 'Clip the global gradient norm.')
      }
    }
  }

  private parallel(draft: Draft): void {
    const parallel = this.get('parallel')
    if (parallel === undefined) return
    if (!isDict(parallel)) {
      this.add('parallel', parallel, 'ignored', null, undefined, 'Not a dict; nothing read.')
      return
    }
    const pipeline = parallel.entries.pipeline
    const tensor = parallel.entries.tensor
    const tensorSize = typeof tensor === 'number' ? tensor : isDict(tensor) && typeof tensor.entries.size === 'number' ? tensor.entries.size : 1
    const mode = isDict(tensor) ? tensor.entries.mode : null
    const pp = typeof pipeline === 'number' ? pipeline : 1
    if (pp > 1)
      this.add(
        'parallel.pipeline',
        pipeline!,
        'unsupported',
        'parallel.pipeline',
        1,
        `Pipeline parallel over ${pp} stages is not supported: this engine runs data parallel only (a whole model per device).`
      )
    else this.add('parallel.pipeline', pipeline ?? 1, 'mapped', 'parallel.pipeline', 1, 'No pipeline parallelism, as here.')
    if (tensorSize > 1) {
      const how = typeof mode === 'string' ? ` (${mode})` : ''
      this.add(
        'parallel.tensor',
        tensor!,
        'unsupported',
        'parallel.tensor',
        1,
        `Tensor parallel size ${tensorSize}${how} is not supported: this engine runs data parallel only. The seed ran data parallel = GPUs / (${tensorSize} x ${pp}); here every device listed runs a whole replica.`
      )
    } else {
      this.add('parallel.tensor', tensor ?? 1, 'mapped', 'parallel.tensor', 1, 'No tensor parallelism, as here.')
    }
    draft.parallel = { tensor: 1, pipeline: 1 }
  }

  private loss(): void {
    for (const key of ['loss', 'loss_fn']) {
      const value = this.get(key)
      if (!isDict(value)) continue
      const type = refName(value.entries.type) ?? ''
      if (/vocab_parallel/.test(type)) this.add(key, value, 'approximated', null, undefined, 'The same causal-LM cross-entropy, computed whole rather than split over a tensor-parallel vocabulary.')
      else this.add(key, value, 'mapped', null, undefined, 'Causal-LM cross-entropy on shifted labels, as here.')
    }
  }

  private rest(draft: Draft): void {
    for (const [name, { value }] of this.py.assignments) {
      if (this.handled.has(name) || ['SEQ_LEN', 'BATCH_SIZE', 'NUM_EPOCHS', 'NUM_MICRO_BATCHES', 'gradient_accumulation'].includes(name)) continue
      if (name === 'clip_grad_norm' && typeof value === 'number') {
        draft.optimizer.gradClip = value
        this.add(name, value, 'mapped', 'optimizer.gradClip', value, 'Clip the global gradient norm.')
      } else if (HELPER_CONSTANTS.has(name)) {
        this.add(name, value, 'ignored', null, undefined, 'A helper constant for the parallel layout or pipeline tensor shapes; nothing to set here.')
      } else {
        this.add(name, value, 'ignored', null, undefined, 'Not a setting train_gpt.py reads for training.')
      }
    }
  }

  private added(draft: Draft, presetName: string): void {
    this.items.push({
      key: '(not in the seed)',
      line: null,
      seed: '—',
      status: 'approximated',
      target: 'eval, checkpoint',
      value: JSON.stringify({ eval: draft.eval, checkpoint: draft.checkpoint }),
      note: `The seed computes no validation loss and saves no checkpoint; these intervals come from the ${presetName} preset so a run can be watched and resumed.`
    })
  }
}

/** Descriptive text shown as-is in the seed column. */
function raw(text: string): PyValue {
  return { kind: 'opaque', text }
}

function isDict(v: PyValue | undefined): v is PyDict {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && v.kind === 'dict'
}

function refName(v: PyValue | undefined): string | null {
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && (v.kind === 'ref' || v.kind === 'call')) return v.kind === 'ref' ? v.name : v.callee
  return typeof v === 'string' ? v : null
}

/** Every leaf of nested dicts with its dotted path. */
function walk(dict: PyDict, prefix: string): [string, PyValue][] {
  return Object.entries(dict.entries).flatMap(([k, v]) => (isDict(v) ? walk(v, `${prefix}.${k}`) : [[`${prefix}.${k}`, v] as [string, PyValue]]))
}
