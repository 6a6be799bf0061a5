// Generation on the PyTorch engine (the model server's KV-cache `decode` behind TorchDecoder)
// against the embedded engine's KV-cache decoder, on one random checkpoint: greedy token for token
// equal, past the context (the window moves and the cache is refilled); sampling with one seed
// equal across runs on the PyTorch engine, and another seed different; `gptw generate --engine
// pytorch` prints the embedded engine's greedy text. Real torch; skipped without it except under CI.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { initBackend } from '../../src/core/engine/backend'
import { loadTraining } from '../../src/core/engine/checkpoint-tf'
import type { GPT } from '../../src/core/engine/model'
import { Generator } from '../../src/core/generate/generator'
import { type TorchGeneration, startTorchGenerator } from '../../src/core/generate/torch-decoder'
import { ROOT, tempDir } from '../helpers'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const N_CTX = 32
const PROMPT = 'Call me Ishmael. Some years ago, never mind how long precisely,'

describeTorch('generation on the PyTorch engine', () => {
  let dir: string
  let gpt: GPT
  let torch: TorchGeneration

  beforeAll(async () => {
    dir = path.join(tempDir('gptw-torch-gen-'), 'step-1')
    randomCheckpoint(dir, { nCtx: N_CTX, seed: 31 })
    await initBackend('wasm')
    gpt = loadTraining(dir, { modelOnly: true }).model
    torch = await startTorchGenerator(dir, { device: 'cpu:0', python: PYTHON, packageDir: PACKAGE_DIR })
  })
  afterAll(async () => {
    await torch?.close()
    gpt?.dispose()
  })

  it('greedy: token for token the embedded engine, through two window moves', async () => {
    // a repetition penalty keeps a random model's greedy text from settling into a short loop
    const params = SamplingParams.parse({ maxNewTokens: 60, stopAtEndOfText: false, repetitionPenalty: 1.5 })
    const embedded = new Generator(gpt)
    const notices: string[] = []
    const want = await embedded.generate({ text: PROMPT }, params)
    embedded.dispose()
    const got = await torch.generator.generate({ text: PROMPT }, params, { onNotice: (m) => notices.push(m) })
    expect(got.ids).toHaveLength(60)
    expect(got.ids).toEqual(want.ids)
    expect(got.text).toBe(want.text)
    expect(notices.join(' ')).toMatch(/reached the model's context of 32 tokens/)
    expect(new Set(got.ids).size).toBeGreaterThan(10)
  })

  it('sampling: one seed draws the same tokens on every run, another seed others', async () => {
    const params = SamplingParams.parse({ maxNewTokens: 24, temperature: 1, topK: 50, stopAtEndOfText: false, seed: 7 })
    const a = await torch.generator.generate({ text: PROMPT }, params)
    const b = await torch.generator.generate({ text: PROMPT }, params)
    const c = await torch.generator.generate({ text: PROMPT }, { ...params, seed: 8 })
    expect(b.ids).toEqual(a.ids)
    expect(c.ids).not.toEqual(a.ids)
    // and the embedded engine, whose logits differ by float rounding only, draws them too
    const embedded = new Generator(gpt)
    expect((await embedded.generate({ text: PROMPT }, params)).ids).toEqual(a.ids)
    embedded.dispose()
  })

  it('gptw generate --engine pytorch --greedy prints the embedded engine greedy text', () => {
    const run = (engine: string) => {
      const r = spawnSync(
        process.execPath,
        [path.join(ROOT, 'bin', 'gptw.js'), 'generate', '--checkpoint', dir, '--prompt', PROMPT, '--greedy', '--max-new-tokens', '20', '--engine', engine, '--backend', 'wasm', '--json'],
        {
          encoding: 'utf8',
          env: { ...process.env, GPTW_HOME: tempDir(), GPTW_PYTHON: PYTHON, GPTW_TORCH_PACKAGE_DIR: PACKAGE_DIR },
          timeout: 240_000
        }
      )
      expect(r.status, r.stderr).toBe(0)
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { text: string; length: number }
    }
    const viaTorch = run('pytorch')
    expect(viaTorch.length).toBe(20)
    expect(viaTorch).toMatchObject({ text: run('embedded').text })
  })
})
