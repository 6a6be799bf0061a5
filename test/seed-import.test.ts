// The seed-config importer on files in the seed's own format (test/fixtures/seed-configs): the
// Python subset is read without Python, every setting is listed as mapped, approximated,
// unsupported or ignored, and the resulting config passes the shared schema.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { PythonConfigError, parsePythonConfig } from '../src/shared/config/python-config'
import { type SeedImportResult, importSeedConfig } from '../src/shared/config/seed-import'
import { TrainConfig } from '../src/shared/config/train'
import { listPresets } from '../src/main/services/presets'
import { RESOURCES_DIR, ROOT } from './helpers'

const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'seed-configs')
const presets = listPresets(RESOURCES_DIR)
const source = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), 'utf8')
const load = (name: string, extra: { trainTokens?: number; devices?: string[] } = {}): SeedImportResult => importSeedConfig(source(name), name, { presets, ...extra })
const item = (r: SeedImportResult, key: string) => {
  const found = r.items.find((i) => i.key === key)
  if (!found) throw new Error(`no item ${key} in ${r.items.map((i) => i.key).join(', ')}`)
  return found
}

describe('the Python subset', () => {
  it('evaluates the constructs the seed configs use', () => {
    const m = parsePythonConfig(source('gpt3_pp2p5d.py'))
    expect(m.assignments.get('BATCH_SIZE')).toEqual({ value: 96, line: 7 })
    expect(m.assignments.get('TENSOR_SHAPE')!.value).toEqual([1, 2048, 6144])
    expect(m.imports.get('gpt3')).toBe('titans.model.gpt.gpt3')
    expect(m.imports.get('torch')).toBe('torch')
    const model = m.assignments.get('model')!.value
    expect(model).toEqual({ kind: 'dict', entries: { type: { kind: 'ref', name: 'gpt3', module: 'titans.model.gpt' }, checkpoint: true, dtype: { kind: 'ref', name: 'torch.half', module: null } } })
  })

  it('reads parenthesised multi-line imports, calls, powers and skips comments', () => {
    const m = parsePythonConfig(source('gpt2_gemini.py'))
    expect(m.imports.get('BucketTensorShardStrategy')).toBe('colossalai.zero.shard_utils.BucketTensorShardStrategy')
    expect(m.assignments.has('parallel')).toBe(false) // commented out in the file
    const zero = m.assignments.get('zero')!.value as { entries: Record<string, { entries: Record<string, unknown> }> }
    expect(zero.entries.optimizer_config.entries.initial_scale).toBe(32)
    expect(zero.entries.model_config.entries.shard_strategy).toEqual({ kind: 'call', callee: 'TensorShardStrategy', args: [], kwargs: {} })
  })

  it("follows Python's arithmetic", () => {
    const m = parsePythonConfig('A = -7 // 2\nB = -7 % 3\nC = 2 ** 10 / 4\nD = (1, 2) + (3,)\nE = "a" "b" + \'c\'\nF = 1_000 * \\\n  2\nG = [1, 2][-1]\n')
    const v = (k: string) => m.assignments.get(k)!.value
    expect([v('A'), v('B'), v('C'), v('D'), v('E'), v('F'), v('G')]).toEqual([-4, 2, 256, [1, 2, 3], 'abc', 2000, 2])
  })

  it('keeps uncomputable expressions as text instead of guessing', () => {
    const m = parsePythonConfig('import torch\nX = torch.half * 2\n')
    expect(m.assignments.get('X')!.value).toEqual({ kind: 'opaque', text: 'torch.half * 2' })
  })

  it('keeps a name that is neither assigned nor imported as an opaque symbol, with one warning per name', () => {
    const m = parsePythonConfig('A = 1\nmodel = dict(type=GPTLMModel, n=A)\nB = UNDEFINED + 1\nC = GPTLMModel.sub\n')
    expect(m.assignments.get('model')!.value).toEqual({ kind: 'dict', entries: { type: { kind: 'ref', name: 'GPTLMModel', module: null, unknown: true }, n: 1 } })
    expect(m.assignments.get('B')!.value).toEqual({ kind: 'opaque', text: 'UNDEFINED + 1' })
    expect(m.assignments.get('C')!.value).toEqual({ kind: 'ref', name: 'GPTLMModel.sub', module: null, unknown: true })
    expect(m.warnings).toEqual([
      'line 2: "GPTLMModel" is neither assigned nor imported before it is used; it is kept as an opaque symbol (its value is not known here).',
      'line 3: "UNDEFINED" is neither assigned nor imported before it is used; it is kept as an opaque symbol (its value is not known here).'
    ])
  })

  it.each([
    ['if True:\n    A = 1\n', 1, '"if" statements are not read'],
    ['from torch import *\n', 1, 'import *'],
    ["A = f'{1}'\n", 1, 'f-strings'],
    ["A = 'open\n", 1, 'not closed'],
    ['A = dict(lr=1\n', 2, 'expected ")"'],
    ['A = 1\n  B = 2\n', 2, 'unexpected indentation'],
    ['A += 1\n', 1, 'augmented assignment']
  ])('refuses %j at line %i', (text, line, message) => {
    let error: unknown
    try {
      parsePythonConfig(text)
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(PythonConfigError)
    expect((error as PythonConfigError).line).toBe(line)
    expect((error as Error).message).toContain(message)
  })
})

describe('mapping the seed configs', () => {
  it('gpt2_vanilla: gpt2 small, Adam with torch defaults, epochs to steps, fp16 not honoured, activation checkpointing on', () => {
    const r = load('gpt2_vanilla.py', { trainTokens: 1_000_000 })
    const c = TrainConfig.parse(r.config)
    expect(c.model).toMatchObject({ nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024 })
    expect(c.batchSize).toBe(1)
    expect(c.optimizer).toMatchObject({ lr: 0.00015, weightDecay: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, gradClip: 0, minLr: 0 })
    expect(c.steps).toBe(Math.floor((60 * 1_000_000) / 1024))
    expect(c.schedule).toEqual({ decay: 'linear', warmupSteps: Math.round((c.steps * 5) / 60) })
    expect(item(r, 'fp16')).toMatchObject({ status: 'unsupported', seed: 'dict(mode=AMP_TYPE.NAIVE)', line: 17 })
    expect(item(r, 'fp16').note).toContain('float32')
    expect(item(r, 'model.checkpoint')).toMatchObject({ status: 'mapped', target: 'activationCheckpointing', value: 'true' })
    expect(c.activationCheckpointing).toBe(true)
    expect(item(r, 'optimizer.type')).toMatchObject({ status: 'approximated', seed: 'Adam' })
    expect(item(r, 'optimizer.lr')).toMatchObject({ status: 'mapped', target: 'optimizer.lr', value: '0.00015', line: 11 })
    expect(item(r, 'parallel.tensor').status).toBe('mapped')
    expect(item(r, 'BATCH_SIZE')).toMatchObject({ line: 7, target: 'batchSize' })
  })

  it('a config that uses a builder it never imports imports with a warning; the shape constants set the model', () => {
    const text = [
      'from colossalai.amp import AMP_TYPE',
      'BATCH_SIZE = 4',
      'SEQ_LEN = 512',
      'HIDDEN_SIZE = 256',
      'NUM_ATTENTION_HEADS = 8',
      'NUM_LAYERS = 6',
      'VOCAB_SIZE = 50304',
      'fp16 = dict(mode=AMP_TYPE.NAIVE)',
      'model = dict(type=GPTLMModel, hidden_size=HIDDEN_SIZE, num_attention_heads=NUM_ATTENTION_HEADS, checkpoint=False)',
      ''
    ].join('\n')
    const r = importSeedConfig(text, 'custom.py', { presets })
    expect(r.warnings).toEqual(['line 9: "GPTLMModel" is neither assigned nor imported before it is used; it is kept as an opaque symbol (its value is not known here).'])
    const c = TrainConfig.parse(r.config)
    expect(c.model).toMatchObject({ nEmbd: 256, nHead: 8, nLayer: 6, vocabSize: 50304, nCtx: 512 })
    expect(item(r, 'HIDDEN_SIZE')).toMatchObject({ status: 'mapped', target: 'model.nEmbd', value: '256' })
    expect(item(r, 'HIDDEN_SIZE').note).toContain('The model dict sets nEmbd itself')
    expect(item(r, 'NUM_LAYERS')).toMatchObject({ status: 'mapped', target: 'model.nLayer', value: '6', note: 'Model shape constant.' })
    expect(item(r, 'VOCAB_SIZE')).toMatchObject({ status: 'mapped', target: 'model.vocabSize', value: '50304' })
    expect(item(r, 'SEQ_LEN')).toMatchObject({ target: 'model.nCtx', value: '512' })
    expect(item(r, 'model.type')).toMatchObject({ status: 'unsupported', seed: 'GPTLMModel' })
    expect(item(r, 'model.type').note).toContain("The seed's constants set part of it: NUM_LAYERS -> nLayer, VOCAB_SIZE -> vocabSize.")
    expect(JSON.parse(item(r, 'model.type').value!)).toEqual({ nLayer: 6, nHead: 8, nEmbd: 256 })
  })

  it('DEPTH is a layer count, except where it is the depth of a 2.5D tensor layout (gpt2_2p5d)', () => {
    const layers = importSeedConfig('DEPTH = 4\nNUM_HEADS = 2\n', 'depth.py', { presets })
    expect(TrainConfig.parse(layers.config).model).toMatchObject({ nLayer: 4, nHead: 2 })
    expect(item(layers, 'DEPTH')).toMatchObject({ status: 'mapped', target: 'model.nLayer' })
    const tensor = load('gpt2_2p5d.py')
    expect(item(tensor, 'DEPTH')).toMatchObject({ status: 'ignored', target: null })
    expect(TrainConfig.parse(tensor.config).model.nLayer).toBe(12)
  })

  it('gpt2_pp: HIDDEN_SIZE = 768 sets the width (mapped, not ignored)', () => {
    const r = load('gpt2_pp.py')
    expect(item(r, 'HIDDEN_SIZE')).toMatchObject({ status: 'mapped', target: 'model.nEmbd', value: '768' })
    expect(r.config.model.nEmbd).toBe(768)
  })

  it('without a dataset size, NUM_EPOCHS keeps the preset steps and says what is needed', () => {
    const r = load('gpt2_vanilla.py')
    expect(r.config.steps).toBe(presets.find((p) => p.name === 'gpt2-small')!.config.steps)
    expect(item(r, 'NUM_EPOCHS').note).toContain("Epochs need the dataset's size")
  })

  it('gpt2_1d and gpt2_2p5d: tensor parallel is listed as not honoured and dropped to data parallel', () => {
    const one = load('gpt2_1d.py')
    expect(item(one, 'parallel.tensor')).toMatchObject({ status: 'unsupported', target: 'parallel.tensor', value: '1' })
    expect(item(one, 'parallel.tensor').note).toContain('Tensor parallel size 2 (1d)')
    expect(item(one, 'TENSOR_PARALLEL').status).toBe('ignored')
    expect(item(one, 'loss').status).toBe('mapped')
    expect(TrainConfig.parse(one.config).parallel).toEqual({ tensor: 1, pipeline: 1 })
    const twoHalf = load('gpt2_2p5d.py')
    expect(item(twoHalf, 'parallel.tensor').note).toContain('Tensor parallel size 8 (2.5d)')
    expect(TrainConfig.parse(twoHalf.config).batchSize).toBe(4)
  })

  it('gpt2_pp and gpt2_pp1d: pipeline stages refused, micro-batches accumulated, fp16 weights refused', () => {
    const pp = load('gpt2_pp.py')
    expect(item(pp, 'parallel.pipeline')).toMatchObject({ status: 'unsupported' })
    expect(item(pp, 'parallel.pipeline').note).toContain('Pipeline parallel over 2 stages')
    expect(item(pp, 'NUM_MICRO_BATCHES')).toMatchObject({ status: 'approximated', target: 'microBatches', value: '4' })
    expect(TrainConfig.parse(pp.config)).toMatchObject({ batchSize: 8, microBatches: 4 })
    const pp1d = load('gpt2_pp1d.py')
    expect(item(pp1d, 'model.dtype').status).toBe('unsupported')
    expect(item(pp1d, 'loss_fn').status).toBe('approximated')
    expect(item(pp1d, 'TENSOR_SHAPE')).toMatchObject({ status: 'ignored', seed: '(2, 1024, 768)' })
    expect(item(pp1d, 'parallel.tensor').note).toContain('Tensor parallel size 2 (1d)')
  })

  it('gpt2_zero3 and gpt2_nvme: ZeRO maps to sharding, each offload target is named; clip_grad is kept', () => {
    const z3 = load('gpt2_zero3.py')
    // No level: Colossal-AI's sharded model (stage 3). On the default CPU device only the optimizer state is sharded.
    expect(item(z3, 'zero')).toMatchObject({ status: 'approximated', target: 'sharding', value: '"optimizer"' })
    expect(item(z3, 'zero').note).toContain('needs CUDA GPUs and torch >= 2.0')
    expect(item(z3, 'zero').note).toContain('engine is set to pytorch')
    expect(TrainConfig.parse(z3.config)).toMatchObject({ sharding: 'optimizer', engine: 'pytorch' })
    expect(item(z3, 'zero.model_config.offload_config.device')).toMatchObject({ status: 'unsupported', seed: "'cpu'" })
    expect(item(z3, 'zero.optimizer_config.cpu_offload').status).toBe('unsupported')
    expect(item(z3, 'optimizer.type')).toMatchObject({ status: 'mapped', seed: 'CPUAdam' })
    expect(TrainConfig.parse(z3.config).batchSize).toBe(2)
    const nvme = load('gpt2_nvme.py')
    expect(item(nvme, 'zero').seed).toBe('dict(level=3, ...)')
    expect(item(nvme, 'zero').note).toContain('ZeRO stage 3')
    // Stage 3 on GPUs: FSDP's full sharding.
    const onGpus = load('gpt2_nvme.py', { devices: ['gpu:0', 'gpu:1'] })
    expect(item(onGpus, 'zero')).toMatchObject({ status: 'mapped', target: 'sharding', value: '"full"' })
    expect(item(onGpus, 'zero').note).toContain('torch >= 2.0')
    expect(TrainConfig.parse(onGpus.config)).toMatchObject({ sharding: 'full', engine: 'pytorch' })
    for (const key of ['zero.offload_optimizer_config.device', 'zero.offload_param_config.device']) {
      expect(item(nvme, key)).toMatchObject({ status: 'unsupported', seed: "'nvme'" })
      expect(item(nvme, key).note).toContain('NVMe offload')
    }
    expect(TrainConfig.parse(nvme.config).optimizer.gradClip).toBe(1)
  })

  it('ZeRO stage 2 shards the optimizer state only, and says the gradients are not; stage 1 maps as it is', () => {
    const zero = (level: number) => importSeedConfig(`BATCH_SIZE = 2\nzero = dict(level=${level}, clip_grad=1.0)\n`, 'zero.py', { presets, devices: ['gpu:0', 'gpu:1'] })
    const two = zero(2)
    expect(item(two, 'zero')).toMatchObject({ status: 'approximated', target: 'sharding', value: '"optimizer"' })
    expect(item(two, 'zero').note).toContain('stage 2 also shards the gradients; here only the optimizer state')
    expect(TrainConfig.parse(two.config)).toMatchObject({ sharding: 'optimizer', engine: 'pytorch' })
    const one = zero(1)
    expect(item(one, 'zero')).toMatchObject({ status: 'mapped', target: 'sharding', value: '"optimizer"' })
    expect(item(zero(4), 'zero').status).toBe('unsupported')
    expect(zero(4).config.sharding).toBeUndefined()
  })

  it('gpt2_gemini: an unknown model builder is said to be unknown, not silently replaced', () => {
    const r = load('gpt2_gemini.py')
    expect(item(r, 'model.type')).toMatchObject({ status: 'unsupported', seed: 'gpt.gpt2_8B' })
    expect(item(r, 'model.type').note).toContain('set the model fields by hand')
    expect(item(r, 'zero.model_config.tensor_placement_policy').status).toBe('unsupported')
  })

  it('gpt3_pp2p5d: the GPT-3 shape, and BATCH_SIZE per process times the chosen devices', () => {
    const r = load('gpt3_pp2p5d.py', { devices: ['gpu:0', 'gpu:1'] })
    const c = TrainConfig.parse(r.config)
    expect(r.modelPreset).toBe('gpt3')
    expect(c.model).toMatchObject({ nLayer: 96, nEmbd: 12288, nCtx: 2048 })
    expect(c).toMatchObject({ batchSize: 192, microBatches: 48, devices: ['gpu:0', 'gpu:1'] })
    expect(item(r, 'BATCH_SIZE').note).toContain('96 x 2 device(s)')
    expect(item(r, 'parallel.pipeline').note).toContain('24 stages')
  })

  it.each(fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.py')))('%s: a valid config, and every assignment accounted for', (name) => {
    const r = load(name, { trainTokens: 5_000_000 })
    expect(TrainConfig.safeParse(r.config).success).toBe(true)
    const listed = new Set(r.items.map((i) => i.key.split('.')[0]))
    for (const assigned of parsePythonConfig(source(name)).assignments.keys()) expect(listed, `${name}: ${assigned}`).toContain(assigned)
    for (const i of r.items) expect(i.note.length).toBeGreaterThan(10)
  })
})
