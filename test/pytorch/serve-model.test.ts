// gptw serve-model --engine pytorch (issue 18) as a user runs it (the built CLI in child
// processes), beside the embedded engine's serve-model on the same checkpoint, both asked by the
// openai client: greedy completions (plain, streamed, several at once over two CPU model servers)
// give the embedded engine's text; echo's prompt logprobs agree; one seed draws the same sample on
// each run; bfloat16 on the CPU is refused, saying so, and --devices without PyTorch is a usage error.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { ROOT, tempDir, waitFor } from '../helpers'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const GPTW = path.join(ROOT, 'bin', 'gptw.js')
const env = { ...process.env, GPTW_PYTHON: PYTHON, GPTW_TORCH_PACKAGE_DIR: PACKAGE_DIR }

describeTorch('gptw serve-model --engine pytorch', () => {
  const dir = tempDir('gptw-serve-torch-')
  const ckpt = path.join(dir, 'whale', 'checkpoints', 'step-8')
  const children: ChildProcess[] = []

  beforeAll(() => {
    randomCheckpoint(ckpt, { seed: 17, nCtx: 64 })
  })
  afterAll(() => {
    for (const c of children) c.kill('SIGKILL')
  })

  /** Starts serve-model with these flags; resolves with the base URL and what it printed. */
  async function serve(flags: string[]): Promise<{ base: string; out: () => string; child: ChildProcess }> {
    const child = spawn(process.execPath, [GPTW, 'serve-model', '--checkpoint', ckpt, '--port', '0', ...flags], { cwd: dir, env })
    children.push(child)
    let out = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
    const base = await waitFor(() => /API at (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)?.[1], 120_000, 'the URL')
    return { base, out: () => out, child }
  }

  it('answers as the embedded engine does: greedy text, streamed, concurrent, echo logprobs; a seed repeats', async () => {
    const [torch, embedded] = await Promise.all([serve(['--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', '--max-batch', '4']), serve([])])
    expect(torch.out()).toMatch(/\(PyTorch engine on 2 x cpu, float32; torch \d+\.\d+[^;]*; batches of up to 4/)
    const a = new OpenAI({ baseURL: torch.base, apiKey: 'none', maxRetries: 0 })
    const b = new OpenAI({ baseURL: embedded.base, apiKey: 'none', maxRetries: 0 })
    expect((await a.models.list()).data.map((m) => m.id)).toEqual(['whale-step-8'])

    const ask = { model: 'whale-step-8', max_tokens: 24, temperature: 0 }
    const prompts = ['Call me Ishmael.', 'The whale', 'It was the best of times', 'Ahab']
    const want = await Promise.all(prompts.map(async (prompt) => (await b.completions.create({ ...ask, prompt })).choices[0].text))
    // four at once: spread over the two model servers
    const got = await Promise.all(prompts.map((prompt) => a.completions.create({ ...ask, prompt })))
    expect(got.map((r) => r.choices[0].text)).toEqual(want)
    expect(got[0].usage).toMatchObject({ completion_tokens: 24 })
    expect(want[0].length).toBeGreaterThan(0)

    let streamed = ''
    for await (const chunk of await a.completions.create({ ...ask, prompt: prompts[0], stream: true })) streamed += chunk.choices[0]?.text ?? ''
    expect(streamed).toBe(want[0])

    // echo with logprobs: the prompt's own tokens scored (fed one at a time on the server)
    const echo = { ...ask, prompt: prompts[2], max_tokens: 3, echo: true, logprobs: 2 }
    const [ea, eb] = [(await a.completions.create(echo)).choices[0], (await b.completions.create(echo)).choices[0]]
    expect(ea.text).toBe(eb.text)
    const [la, lb] = [ea.logprobs!.token_logprobs!, eb.logprobs!.token_logprobs!]
    // the prompt's tokens (after the end-of-text put before it, not echoed) then the 3 generated
    expect(la).toHaveLength(lb.length)
    expect(la.length).toBeGreaterThan(3)
    for (const [i, v] of lb.entries()) expect(Math.abs(la[i]! - v!), `token ${i}`).toBeLessThan(1e-3)
    expect(ea.logprobs!.top_logprobs!.map((t) => Object.keys(t!))).toEqual(eb.logprobs!.top_logprobs!.map((t) => Object.keys(t!)))

    const sampled = { model: 'whale-step-8', prompt: 'Call me', max_tokens: 16, temperature: 1, top_k: 40, seed: 7 }
    const first = (await a.completions.create(sampled)).choices[0].text
    expect((await a.completions.create(sampled)).choices[0].text).toBe(first)

    for (const s of [torch, embedded]) {
      const exited = new Promise((resolve) => s.child.once('exit', resolve))
      s.child.kill('SIGINT')
      expect(await exited).toBe(0)
    }
  })

  it('refuses bfloat16 on the CPU naming why (serve-model and generate), and --devices without PyTorch', () => {
    const bf16 = spawnSync(process.execPath, [GPTW, 'serve-model', '--checkpoint', ckpt, '--engine', 'pytorch', '--dtype', 'bfloat16'], { encoding: 'utf8', env, timeout: 120_000 })
    expect(bf16.status).not.toBe(0)
    expect(bf16.stderr).toMatch(/bfloat16 was asked on the CPU, which runs the PyTorch engine in float32 only: ask float32 or auto there/)
    // gptw generate's --dtype the same way
    const gen = spawnSync(process.execPath, [GPTW, 'generate', '--checkpoint', ckpt, '--prompt', 'x', '--engine', 'pytorch', '--dtype', 'bfloat16'], { encoding: 'utf8', env, timeout: 120_000 })
    expect(gen.status).not.toBe(0)
    expect(gen.stderr).toMatch(/bfloat16 was asked on the CPU/)
    const stray = spawnSync(process.execPath, [GPTW, 'serve-model', '--checkpoint', ckpt, '--devices', 'cpu:1'], { encoding: 'utf8', env, timeout: 60_000 })
    expect(stray.status).toBe(2)
    expect(stray.stderr).toContain('--devices and --dtype go with --engine pytorch')
  })
})
