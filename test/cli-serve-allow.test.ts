// Issue 13: `gptw serve --allow DIR` approves a folder outside the workspace for the web host's
// path-taking API methods, and nothing else; a missing --allow folder stops the host before it
// starts, naming the folder.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ROOT, tempDir, waitFor } from './helpers'

const GPTW = path.join(ROOT, 'bin', 'gptw.js')
const children: ChildProcess[] = []
afterAll(() => {
  for (const child of children) child.kill('SIGTERM')
})

describe('gptw serve --allow', () => {
  it('lets the API name files in an approved folder and still refuses its neighbours', async () => {
    const home = tempDir('gptw-serve-home-')
    const approved = tempDir('gptw-serve-approved-')
    const neighbour = tempDir('gptw-serve-other-')
    const child = spawn(process.execPath, [GPTW, 'serve', '--allow', approved], { env: { ...process.env, GPTW_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.push(child)
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c))
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (out += c))
    const url = new URL(await waitFor(() => /serving at (\S+)/.exec(out)?.[1], 60_000, 'the host to print its URL'))
    expect(out).toContain(`Also approved for reading and writing: ${approved}`)

    const call = async (checkpoint: string): Promise<{ status: number; body: { ok: boolean; error?: { code: string; message: string } } }> => {
      const res = await fetch(new URL('/api/evals.results', url), {
        method: 'POST',
        headers: { Authorization: `Bearer ${url.searchParams.get('token')}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ checkpoints: [checkpoint] })
      })
      return { status: res.status, body: (await res.json()) as { ok: boolean; error?: { code: string; message: string } } }
    }
    const inside = await call(path.join(approved, 'runs', '1', 'checkpoints', 'step-3'))
    expect(inside.status, JSON.stringify(inside.body)).toBe(200)
    expect(inside.body.ok).toBe(true)
    const outside = await call(path.join(neighbour, 'step-3'))
    expect(outside.status).toBe(403)
    expect(outside.body.error?.message).toMatch(/^Forbidden: .*outside the folders/)
  }, 90_000)

  it('refuses a missing folder before starting, naming it', () => {
    const missing = path.join(tempDir('gptw-serve-missing-'), 'nowhere')
    const r = spawnSync(process.execPath, [GPTW, 'serve', '--allow', missing], { env: { ...process.env, GPTW_HOME: tempDir('gptw-serve-home-') }, encoding: 'utf8', timeout: 60_000 })
    expect(r.status).toBe(2)
    expect(r.stderr).toContain(`--allow ${missing}: ${missing} does not exist`)
    expect(r.stdout).not.toContain('serving at')
  }, 90_000)
})
