// gptw serve-model as a user runs it (the built CLI in a child process): it prints the base URL, the
// model ids and a curl example, answers the openai client (with the key it was given), and stops
// cleanly on Ctrl+C; another host without a key, or no checkpoint, is a usage error.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { randomCheckpoint } from '../generate/fixtures'
import { ROOT, tempDir, waitFor } from '../helpers'

const GPTW = path.join(ROOT, 'bin', 'gptw.js')
const dir = tempDir('gptw-serve-model-')
let ckpt: string
let child: ChildProcess | null = null

beforeAll(async () => {
  await initBackend('wasm')
  ckpt = await randomCheckpoint(dir, path.join('whale', 'checkpoints', 'step-8'), 21)
})
afterAll(() => {
  child?.kill('SIGKILL')
})

describe('gptw serve-model', () => {
  it('serves a checkpoint to the openai client and stops on SIGINT', async () => {
    child = spawn(process.execPath, [GPTW, 'serve-model', '--checkpoint', ckpt, '--port', '0', '--api-key', 'k-123', '--max-batch', '4', '--backend', 'wasm'], { cwd: dir })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)))
    const base = await waitFor(() => /API at (http:\/\/127\.0\.0\.1:\d+\/v1)/.exec(out)?.[1], 30_000, `the URL (stderr: ${err})`)
    await waitFor(() => out.includes('Try: curl'), 5000, 'the curl example')
    expect(out).toContain('model whale-step-8')
    expect(out).toContain(`${base}/completions`)
    expect(out).toContain('Authorization: Bearer')

    const client = new OpenAI({ baseURL: base, apiKey: 'k-123', maxRetries: 0 })
    expect((await client.models.list()).data.map((m) => m.id)).toEqual(['whale-step-8'])
    const r = await client.completions.create({ model: 'whale-step-8', prompt: 'Ahab', max_tokens: 5, seed: 1 })
    expect(r.usage!.completion_tokens).toBeGreaterThan(0)
    const denied = await fetch(`${base}/models`)
    expect(denied.status).toBe(401)

    child.kill('SIGINT')
    expect(await exited).toBe(0)
    child = null
  })

  it('refuses another host without a key, and no checkpoint, with exit code 2', () => {
    const open = spawnSync(process.execPath, [GPTW, 'serve-model', '--checkpoint', ckpt, '--host', '0.0.0.0'], { encoding: 'utf8', timeout: 30_000 })
    expect(open.status).toBe(2)
    expect(open.stderr).toContain('--api-key')
    const none = spawnSync(process.execPath, [GPTW, 'serve-model'], { encoding: 'utf8', timeout: 30_000 })
    expect(none.status).toBe(2)
    expect(none.stderr).toContain('--checkpoint')
  })
})
