// Checkpoint folders: Hugging Face GPT-2 layouts load (prefix, mask buffers, tied head, the
// unpadded 50,257-row embedding), ours round-trip with optimizer and trainer state, config.json
// carries GPT2Config keys, files hold exactly the tokenizer's rows of wte (older padded ones still
// load), folders appear whole, keep-last-N pruning, and clear errors for mismatched shapes,
// missing or foreign tensors and broken files.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { GPT2_VOCAB, type ModelConfig, paddedVocab } from '../src/shared/config/model'
import {
  type Checkpoint,
  CONFIG_FILE,
  MODEL_FILE,
  OPTIMIZER_FILE,
  TRAINER_FILE,
  checkpointDir,
  latestCheckpoint,
  listCheckpoints,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint
} from '../src/core/engine/checkpoint'
import { parameterShapes } from '../src/core/engine/param-names'
import { type HostTensor, readSafetensors, writeSafetensors } from '../src/core/engine/safetensors'
import { ROOT, tempDir } from './helpers'

const TINY_HF = path.join(ROOT, 'test', 'goldens', 'tiny-gpt-hf')
const TINY: ModelConfig = { nLayer: 2, nHead: 4, nEmbd: 32, nCtx: 16, vocabSize: 100, dropout: 0, layerNormEps: 1e-5 }

/** Deterministic, distinct values for every parameter of `config`; wte's padded rows 0, as the engines keep them. */
function fakeParams(config: ModelConfig, salt = 0): Map<string, HostTensor> {
  let k = salt
  return new Map(
    [...parameterShapes(config)].map(([name, shape]) => {
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1))
      const real = name === 'wte.weight' ? config.vocabSize * shape[1] : data.length
      for (let i = 0; i < real; i++) data[i] = Math.sin(++k * 0.731)
      return [name, { shape, data }]
    })
  )
}

function fakeCheckpoint(config: ModelConfig, step = 7): Checkpoint {
  const params = fakeParams(config)
  return {
    config,
    params,
    optimizer: { step, m: fakeParams(config, 1e6), v: fakeParams(config, 2e6) },
    trainer: { step, rngState: 123456789, tokensSeen: 4096 * step, elapsedSeconds: 12.5 }
  }
}

function expectSameTensors(a: Map<string, HostTensor>, b: Map<string, HostTensor>): void {
  expect([...a.keys()].sort()).toEqual([...b.keys()].sort())
  for (const [name, t] of a) {
    expect(b.get(name)!.shape, name).toEqual(t.shape)
    expect(Buffer.from(b.get(name)!.data.buffer).equals(Buffer.from(t.data.buffer)), name).toBe(true)
  }
}

function editJson(file: string, edit: (j: Record<string, unknown>) => void): void {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'))
  edit(j)
  fs.writeFileSync(file, JSON.stringify(j))
}

describe('checkpoints', () => {
  it('loads a Hugging Face-layout GPT-2 folder: prefixed names, mask buffers, tied lm_head, padded embedding', () => {
    const raw = readSafetensors(path.join(TINY_HF, MODEL_FILE)).tensors
    expect(raw.has('transformer.h.0.attn.bias')).toBe(true) // the fixture really has the HF extras
    expect(raw.has('lm_head.weight')).toBe(true)
    expect(raw.get('transformer.wte.weight')!.shape).toEqual([100, 32])

    const ckpt = loadCheckpoint(TINY_HF)
    expect(ckpt.config).toEqual(TINY)
    expect(ckpt.optimizer).toBeUndefined()
    expect([...ckpt.params.keys()]).toEqual([...parameterShapes(TINY).keys()])
    const wte = ckpt.params.get('wte.weight')!
    expect(wte.shape).toEqual([128, 32])
    expect(Buffer.from(wte.data.buffer, 0, 100 * 32 * 4).equals(Buffer.from(raw.get('transformer.wte.weight')!.data.buffer))).toBe(true)
    expect(wte.data.subarray(100 * 32).every((x) => x === 0)).toBe(true)
    expect(ckpt.params.get('h.1.mlp.c_fc.weight')!.data).toEqual(raw.get('transformer.h.1.mlp.c_fc.weight')!.data)
  })

  it("pads real GPT-2's 50,257-row embedding to 50,304 and reads unprefixed names with masked_bias buffers", () => {
    const dir = tempDir()
    const config: ModelConfig = { nLayer: 1, nHead: 2, nEmbd: 8, nCtx: 4, vocabSize: GPT2_VOCAB, dropout: 0, layerNormEps: 1e-5 }
    const params = fakeParams(config)
    const wte = params.get('wte.weight')!
    const tensors: [string, HostTensor][] = [...params].map(([n, t]) => [n, n === 'wte.weight' ? { shape: [GPT2_VOCAB, 8], data: wte.data.slice(0, GPT2_VOCAB * 8) } : t])
    tensors.push(['h.0.attn.bias', { shape: [1, 1, 4, 4], data: new Float32Array(16).fill(1) }], ['h.0.attn.masked_bias', { shape: [], data: Float32Array.of(-1e4) }])
    writeSafetensors(path.join(dir, MODEL_FILE), tensors)
    // The keys of the real gpt2 config.json (vocab_size 50257, n_ctx, no n_inner value).
    fs.writeFileSync(
      path.join(dir, CONFIG_FILE),
      JSON.stringify({
        activation_function: 'gelu_new',
        architectures: ['GPT2LMHeadModel'],
        attn_pdrop: 0.1,
        embd_pdrop: 0.1,
        initializer_range: 0.02,
        layer_norm_epsilon: 1e-5,
        model_type: 'gpt2',
        n_ctx: 4,
        n_embd: 8,
        n_head: 2,
        n_layer: 1,
        n_positions: 4,
        resid_pdrop: 0.1,
        summary_type: 'cls_index',
        task_specific_params: { 'text-generation': { do_sample: true } },
        vocab_size: GPT2_VOCAB
      })
    )

    const ckpt = loadCheckpoint(dir)
    expect(ckpt.config).toEqual({ ...config, dropout: 0.1 })
    const loaded = ckpt.params.get('wte.weight')!
    expect(loaded.shape).toEqual([paddedVocab(GPT2_VOCAB), 8])
    expect(Buffer.from(loaded.data.buffer, 0, GPT2_VOCAB * 32).equals(Buffer.from(wte.data.buffer, 0, GPT2_VOCAB * 32))).toBe(true)
    expect(loaded.data.subarray(GPT2_VOCAB * 8).every((x) => x === 0)).toBe(true)
  })

  it('round-trips model, optimizer and trainer state bit for bit, in a folder transformers can read', () => {
    const root = tempDir()
    const dir = checkpointDir(root, 7)
    const ckpt = fakeCheckpoint(TINY)
    saveCheckpoint(dir, ckpt)
    expect(fs.readdirSync(root)).toEqual(['step-7'])
    expect(fs.readdirSync(dir).sort()).toEqual([CONFIG_FILE, MODEL_FILE, OPTIMIZER_FILE, TRAINER_FILE].sort())

    const config = JSON.parse(fs.readFileSync(path.join(dir, CONFIG_FILE), 'utf8'))
    expect(config).toMatchObject({
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      vocab_size: 100,
      n_positions: 16,
      n_embd: 32,
      n_layer: 2,
      n_head: 4,
      activation_function: 'gelu_new',
      layer_norm_epsilon: 1e-5,
      tie_word_embeddings: true
    })
    const model = readSafetensors(path.join(dir, MODEL_FILE))
    expect(model.metadata.format).toBe('pt') // transformers refuses safetensors without it
    expect(model.tensors.get('h.0.attn.c_attn.weight')!.shape).toEqual([32, 96]) // Conv1D [in, out]
    expect(model.tensors.has('transformer.wte.weight')).toBe(false)
    // Exactly the tokenizer's rows on disk, so transformers never scores or samples a padded id.
    expect(config.gptw_vocab_size).toBeUndefined()
    expect(model.tensors.get('wte.weight')!.shape).toEqual([100, 32])
    const moments = readSafetensors(path.join(dir, OPTIMIZER_FILE)).tensors
    expect(moments.get('wte.weight.exp_avg')!.shape).toEqual([100, 32])
    expect(moments.get('wte.weight.exp_avg_sq')!.shape).toEqual([100, 32])
    expect(moments.get('h.0.attn.c_attn.weight.exp_avg')!.shape).toEqual([32, 96])

    const back = loadCheckpoint(dir)
    expect(back.config).toEqual(TINY)
    expectSameTensors(ckpt.params, back.params)
    expect(back.optimizer!.step).toBe(7)
    expectSameTensors(ckpt.optimizer!.m, back.optimizer!.m)
    expectSameTensors(ckpt.optimizer!.v, back.optimizer!.v)
    expect(back.trainer).toEqual(ckpt.trainer)
    expect(loadCheckpoint(dir, { modelOnly: true }).optimizer).toBeUndefined()
  })

  it('loads an older checkpoint that stored the padded rows (vocab_size 128, gptw_vocab_size 100), optimizer included', () => {
    const dir = tempDir()
    const ckpt = fakeCheckpoint(TINY)
    // The layout saveCheckpoint wrote before files held only the tokenizer's rows.
    writeSafetensors(path.join(dir, MODEL_FILE), ckpt.params, { format: 'pt' })
    const moments: [string, HostTensor][] = [...ckpt.params.keys()].flatMap(
      (n) =>
        [
          [`${n}.exp_avg`, ckpt.optimizer!.m.get(n)!],
          [`${n}.exp_avg_sq`, ckpt.optimizer!.v.get(n)!]
        ] as [string, HostTensor][]
    )
    writeSafetensors(path.join(dir, OPTIMIZER_FILE), moments, { format: 'gptw-adamw-v1', step: '7' })
    fs.writeFileSync(
      path.join(dir, CONFIG_FILE),
      JSON.stringify({ model_type: 'gpt2', vocab_size: 128, gptw_vocab_size: 100, n_positions: 16, n_ctx: 16, n_embd: 32, n_layer: 2, n_head: 4, layer_norm_epsilon: 1e-5, tie_word_embeddings: true })
    )
    expect(readSafetensors(path.join(dir, MODEL_FILE)).tensors.get('wte.weight')!.shape).toEqual([128, 32])
    const back = loadCheckpoint(dir)
    expect(back.config).toEqual(TINY)
    expectSameTensors(ckpt.params, back.params)
    expectSameTensors(ckpt.optimizer!.m, back.optimizer!.m)
    expectSameTensors(ckpt.optimizer!.v, back.optimizer!.v)
    // Saved again, it holds the tokenizer's rows only.
    saveCheckpoint(path.join(dir, 'again'), back)
    expect(readSafetensors(path.join(dir, 'again', MODEL_FILE)).tensors.get('wte.weight')!.shape).toEqual([100, 32])
    expectSameTensors(ckpt.params, loadCheckpoint(path.join(dir, 'again')).params)
  })

  it('replaces an existing folder of the same step whole and leaves no temporaries', () => {
    const root = tempDir()
    const dir = checkpointDir(root, 3)
    saveCheckpoint(dir, fakeCheckpoint(TINY, 3))
    const second = { config: TINY, params: fakeParams(TINY, 99) }
    saveCheckpoint(dir, second)
    expect(fs.readdirSync(root)).toEqual(['step-3'])
    expect(fs.readdirSync(dir).sort()).toEqual([CONFIG_FILE, MODEL_FILE].sort())
    expectSameTensors(second.params, loadCheckpoint(dir).params)
  })

  it('keeps the newest N checkpoints plus pinned ones and clears interrupted saves', () => {
    const root = tempDir()
    for (const step of [10, 2, 30, 40, 5]) saveCheckpoint(checkpointDir(root, step), { config: TINY, params: fakeParams(TINY, step) })
    fs.mkdirSync(path.join(root, '.step-50.tmp-999-abc'))
    expect(listCheckpoints(root).map((c) => c.step)).toEqual([2, 5, 10, 30, 40])
    expect(pruneCheckpoints(root, 2, [5])).toEqual([2, 10])
    expect(fs.readdirSync(root).sort()).toEqual(['step-30', 'step-40', 'step-5'])
    expect(latestCheckpoint(root)).toEqual({ step: 40, dir: path.join(root, 'step-40') })
    expect(latestCheckpoint(path.join(root, 'none'))).toBeNull()
    expect(() => pruneCheckpoints(root, 0)).toThrow(/keepLast must be a whole number of at least 1/)
  })

  it('refuses a checkpoint whose shapes do not match, naming tensor, file, expected and found', () => {
    const dir = tempDir()
    saveCheckpoint(dir, { config: TINY, params: fakeParams(TINY) })
    const model = path.join(dir, MODEL_FILE)
    const cfg = path.join(dir, CONFIG_FILE)
    editJson(cfg, (j) => (j.n_embd = 64))
    expect(() => loadCheckpoint(dir)).toThrow(`${model}: tensor "wte.weight" has shape [100, 32], expected [128, 64].`)
    editJson(cfg, (j) => (j.n_embd = 32))

    const bigger = { ...TINY, nCtx: 32 }
    expect(() => loadCheckpoint(dir, { expect: bigger })).toThrow(`${cfg}: the checkpoint's model does not match the config: nCtx is 16 in the checkpoint, 32 in the config.`)

    const tensors = readSafetensors(model).tensors
    tensors.set('h.1.mlp.c_fc.weight', { shape: [32, 100], data: new Float32Array(3200) })
    writeSafetensors(model, tensors)
    expect(() => loadCheckpoint(dir)).toThrow(`${model}: tensor "h.1.mlp.c_fc.weight" has shape [32, 100], expected [32, 128].`)
    const wrong = fakeParams(TINY)
    wrong.set('h.1.mlp.c_fc.weight', tensors.get('h.1.mlp.c_fc.weight')!)
    expect(() => saveCheckpoint(path.join(dir, 'x'), { config: TINY, params: wrong })).toThrow(/tensor "h\.1\.mlp\.c_fc\.weight" has shape \[32, 100\], expected \[32, 128\]/)
  })

  it('names missing, foreign and duplicated tensors, an untied head, and broken files', () => {
    const base = tempDir()
    const make = (name: string, edit: (t: Map<string, HostTensor>) => void): string => {
      const dir = path.join(base, name)
      saveCheckpoint(dir, { config: TINY, params: fakeParams(TINY) })
      const tensors = readSafetensors(path.join(dir, MODEL_FILE)).tensors
      edit(tensors)
      writeSafetensors(path.join(dir, MODEL_FILE), tensors)
      return dir
    }
    expect(() => loadCheckpoint(make('missing', (t) => t.delete('h.1.ln_2.bias')))).toThrow(/missing\/model\.safetensors: missing 1 tensor\(s\) a 2-layer GPT-2 needs: h\.1\.ln_2\.bias/)
    expect(() => loadCheckpoint(make('foreign', (t) => t.set('h.2.ln_1.weight', { shape: [32], data: new Float32Array(32) })))).toThrow(
      /foreign\/model\.safetensors: unexpected tensor "h\.2\.ln_1\.weight"/
    )
    expect(() => loadCheckpoint(make('twice', (t) => t.set('transformer.ln_f.bias', t.get('ln_f.bias')!)))).toThrow(/twice\/model\.safetensors: tensor "ln_f\.bias" appears twice/)
    expect(() => loadCheckpoint(make('untied', (t) => t.set('lm_head.weight', { shape: [128, 32], data: new Float32Array(128 * 32) })))).toThrow(
      /untied\/model\.safetensors: "lm_head\.weight" differs from the token embedding/
    )

    const cut = make('cut', () => {})
    const model = path.join(cut, MODEL_FILE)
    fs.truncateSync(model, fs.statSync(model).size - 100)
    expect(() => loadCheckpoint(cut)).toThrow(`${model}: not a valid safetensors file`)

    const cfg = path.join(
      make('cfg', () => {}),
      CONFIG_FILE
    )
    fs.writeFileSync(cfg, '{"n_layer": 2,')
    expect(() => loadCheckpoint(path.dirname(cfg))).toThrow(`${cfg}: not valid JSON`)
    fs.writeFileSync(cfg, JSON.stringify({ n_layer: 2, n_head: 4, n_embd: 32, n_positions: 16, vocab_size: 100, activation_function: 'relu' }))
    expect(() => loadCheckpoint(path.dirname(cfg))).toThrow(`${cfg}: activation_function is "relu", not tanh GELU (gelu_new); this engine runs the standard GPT-2 architecture only.`)
    fs.writeFileSync(cfg, JSON.stringify({ n_layer: 2, n_head: 5, n_embd: 32, n_positions: 16, vocab_size: 100 }))
    expect(() => loadCheckpoint(path.dirname(cfg))).toThrow(`${cfg}: impossible model shape: nEmbd: nEmbd must be divisible by nHead.`)
    fs.writeFileSync(cfg, JSON.stringify({ n_layer: 2, n_head: 4, n_positions: 16, vocab_size: 100 }))
    expect(() => loadCheckpoint(path.dirname(cfg))).toThrow(`${cfg}: not a GPT-2 config: n_embd:`)
    expect(() => loadCheckpoint(path.join(base, 'nothing'))).toThrow(/nothing: no such checkpoint folder/)
  })
})
