// gptw generate as a user runs it (the built CLI in a child process): a prompt streamed to stdout
// equals what the library makes with the same seed, a config file in the seed's keys runs
// input-file mode with a bad line reported, and bad input gets a clear error and exit code.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { initBackend } from '../../src/core/engine/backend'
import { Generator } from '../../src/core/generate/generator'
import { loadForGeneration } from '../../src/core/generate/load'
import { ROOT, tempDir } from '../helpers'
import { randomCheckpoint } from './fixtures'

const dir = tempDir('gptw-gen-cli-')
let ckpt: string

function gptw(...args: string[]) {
  return gptwWithInput(undefined, ...args)
}

function gptwWithInput(input: string | undefined, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'generate', ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, input })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}

beforeAll(async () => {
  await initBackend('wasm')
  ckpt = await randomCheckpoint(dir, 'ckpt', 3)
})
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

describe('gptw generate', () => {
  it('streams a continuation to stdout, the same text the library makes with that seed', async () => {
    const flags = ['--checkpoint', ckpt, '--prompt', 'Call me Ishmael.', '--max-new-tokens', '9', '--temperature', '1', '--top-k', '100', '--seed', '4', '--backend', 'wasm']
    const json = gptw(...flags, '--json')
    expect(json.code, json.stderr).toBe(0)
    const out = JSON.parse(json.stdout.trim()) as { text: string; length: number; context: string; parameters: SamplingParams }
    expect(out).toMatchObject({ context: 'Call me Ishmael.', length: 9, parameters: { temperature: 1, topK: 100, seed: 4, maxNewTokens: 9 } })

    const model = loadForGeneration(ckpt)
    const g = new Generator(model)
    const local = await g.generate({ text: 'Call me Ishmael.' }, SamplingParams.parse({ maxNewTokens: 9, temperature: 1, topK: 100, seed: 4 }))
    g.dispose()
    model.dispose()
    expect(local.text.length).toBeGreaterThan(0)
    expect(out.text).toBe(local.text)

    const streamed = gptw(...flags)
    expect(streamed.code, streamed.stderr).toBe(0)
    expect(streamed.stdout).toBe(local.text + '\n')
    expect(streamed.stderr).toMatch(/\[9 tokens in [\d.]+ s, [\d.]+ tokens\/s; ended: max-tokens\]/)
  })

  it('--greedy overrides sampling flags and is deterministic', () => {
    const a = gptw('--checkpoint', ckpt, '--prompt', 'Hello', '--max-new-tokens', '5', '--temperature', '1.5', '--greedy', '--seed', '1', '--json', '--backend', 'wasm')
    const b = gptw('--checkpoint', ckpt, '--prompt', 'Hello', '--max-new-tokens', '5', '--greedy', '--seed', '2', '--json', '--backend', 'wasm')
    expect(a.code, a.stderr).toBe(0)
    const [ra, rb] = [a, b].map((r) => JSON.parse(r.stdout) as { text: string; parameters: SamplingParams })
    expect(ra.parameters.temperature).toBe(0)
    expect(ra.text).toBe(rb.text)
  })

  it('runs a config file in the seed keys: input-file mode, one output per good prompt, the bad line named', () => {
    fs.writeFileSync(path.join(dir, 'prompts.jsonl'), '{"text": "The sea"}\n{"text": \n{"text": "A ship"}\n')
    fs.writeFileSync(
      path.join(dir, 'gen.yaml'),
      ['text_gen_type: input-file', `checkpoint: ${ckpt}`, 'sample_input_file: prompts.jsonl', 'maximum_tokens: 4', 'temperature: 1.0', 'top_k: 5', 'top_p: 0.7', 'backend: wasm'].join('\n')
    )
    const r = gptw('--config', 'gen.yaml')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/prompts\.jsonl line 2: not valid JSON.*skipped/)
    expect(r.stderr).toMatch(/Wrote 2 output line\(s\) to .*prompts\.jsonl\.output\.jsonl; skipped line\(s\) 2/)
    const lines = fs
      .readFileSync(path.join(dir, 'prompts.jsonl.output.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { context: string; length: number; parameters: SamplingParams })
    expect(lines.map((l) => l.context)).toEqual(['The sea', 'A ship'])
    expect(lines[0].parameters).toMatchObject({ maxNewTokens: 4, temperature: 1, topK: 5, topP: 0.7 })
  })

  it('writes N unconditional samples', () => {
    const r = gptw('--checkpoint', ckpt, '--samples', '3', '--output', 'samples.jsonl', '--max-new-tokens', '3', '--temperature', '1', '--backend', 'wasm')
    expect(r.code, r.stderr).toBe(0)
    expect(fs.readFileSync(path.join(dir, 'samples.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3)
  })

  it('without a prompt, serves a console: each line read is a prompt, its reply streamed', () => {
    const r = gptwWithInput('Call me Ishmael.\nThe whale\n', '--checkpoint', ckpt, '--max-new-tokens', '4', '--temperature', '1', '--backend', 'wasm')
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr.match(/\[4 tokens in [\d.]+ s/g)).toHaveLength(2)
    expect(r.stdout.match(/^> /gm)?.length).toBeGreaterThanOrEqual(2)
  })

  it('names a missing checkpoint folder and a missing --checkpoint', () => {
    const missing = gptw('--checkpoint', path.join(dir, 'nope'), '--prompt', 'x')
    expect(missing.code).toBe(1)
    expect(missing.stderr).toMatch(/Checkpoint folder .*nope does not exist\. Pick a checkpoint of a training run, or a Hugging Face GPT-2 folder/)
    const usage = gptw('--prompt', 'x')
    expect(usage.code).toBe(2)
    expect(usage.stderr).toMatch(/generate needs --checkpoint DIR/)
  })
})
