// Issue 13 F7: through the web host, every API input that names a file is kept to the workspace
// and approved folders. /etc/passwd (and a relative path and a symlink that lead there) is refused
// by every path-taking method with 403 'forbidden', naming the path and how to allow a folder;
// a file inside the workspace is accepted; GPTW_ALLOW_DIRS approves a folder.
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startWebHost, type WebHost } from '../src/main/server'
import { PathPolicy } from '../src/main/services/path-policy'
import { Workbench } from '../src/main/services/workbench'
import { MOBY_DICK, RENDERER_DIR, RESOURCES_DIR, WORKERS_DIR, tempDir } from './helpers'

let workbench: Workbench
let host: WebHost
let root: string

beforeAll(async () => {
  root = tempDir('gptw-paths-')
  workbench = new Workbench({ workspaceRoot: root, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  host = await startWebHost({ workbench, rendererDir: RENDERER_DIR, port: 0 })
})
afterAll(async () => {
  await host.close()
  await workbench.close()
})

function call(method: string, body: unknown): Promise<{ status: number; reply: { ok: boolean; error?: { code: string; message: string } } }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path: `/api/${method}`, method: 'POST', headers: { Authorization: `Bearer ${host.token}` } }, (res) => {
      let text = ''
      res
        .setEncoding('utf8')
        .on('data', (c) => (text += c))
        .on('end', () => resolve({ status: res.statusCode!, reply: JSON.parse(text) }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

const preset = (): Record<string, unknown> => (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: Record<string, unknown> }).config

/** Every path-taking API input, with `bad` in the path's place. */
function pathCalls(bad: string, good: string): [string, string, unknown][] {
  return [
    ['tokenize input', 'jobs.start', { kind: 'tokenize', params: { input: bad } }],
    ['tokenize outDir', 'jobs.start', { kind: 'tokenize', params: { input: good, outDir: bad } }],
    ['prepare urlFiles', 'jobs.start', { kind: 'prepare', params: { config: { sources: { urlFiles: [bad] } } } }],
    ['prepare htmlDirs', 'jobs.start', { kind: 'prepare', params: { config: { sources: { htmlDirs: [path.dirname(bad)] } } } }],
    ['prepare jsonFiles', 'jobs.start', { kind: 'prepare', params: { config: { sources: { jsonFiles: [bad] } } } }],
    ['prepare out', 'jobs.start', { kind: 'prepare', params: { config: { sources: { jsonFiles: [good] } }, datasetDir: path.join(path.dirname(bad), 'gptw-out') } }],
    ['train dataset', 'jobs.start', { kind: 'train', params: { preset: 'tiny-cpu', dataset: bad } }],
    ['train config.dataset', 'jobs.start', { kind: 'train', params: { config: { ...preset(), dataset: bad } } }],
    ['eval checkpoints', 'jobs.start', { kind: 'eval', params: { checkpoints: [bad], tasks: ['lambada'] } }],
    ['generate job checkpoint', 'jobs.start', { kind: 'generate', params: { checkpoint: bad } }],
    ['configs.save dataset', 'configs.save', { name: 'leak', config: { ...preset(), dataset: bad } }],
    ['evals.results', 'evals.results', { checkpoints: [bad] }],
    ['generate.load', 'generate.load', { checkpoint: bad }],
    ['generate.unload', 'generate.unload', { checkpoint: bad }],
    ['generate.serve', 'generate.serve', { checkpoint: bad, on: true }],
    ['generate.start', 'generate.start', { checkpoint: bad, prompt: 'x' }]
  ]
}

describe('paths in API inputs (web host)', () => {
  it('refuses /etc/passwd in every path-taking method with forbidden, naming the path and how to allow a folder', async () => {
    const good = path.join(root, 'book.txt')
    fs.copyFileSync(MOBY_DICK, good)
    const link = path.join(root, 'etc-link')
    fs.symlinkSync('/etc', link)
    let refused = 0
    for (const bad of ['/etc/passwd', path.relative(root, '/etc/passwd'), path.join(link, 'passwd')]) {
      for (const [what, method, body] of pathCalls(bad, good)) {
        const { status, reply } = await call(method, body)
        expect(status, `${what} (${bad})`).toBe(403)
        expect(reply.error?.code, what).toBe('forbidden')
        expect(reply.error?.message, what).toMatch(/^Forbidden: .* names .*\/etc\b.*outside the folders.*GPTW_ALLOW_DIRS=\//)
        refused++
      }
    }
    expect(refused).toBe(48)
    // Nothing started: no job ran on any of them.
    const jobs = await call('jobs.list', {})
    expect(jobs.reply).toMatchObject({ ok: true, value: [] })
  })

  it('accepts a file inside the workspace, by absolute or relative path', async () => {
    fs.copyFileSync(MOBY_DICK, path.join(root, 'inside.txt'))
    for (const input of [path.join(root, 'inside.txt'), 'inside.txt']) {
      const { status, reply } = await call('jobs.start', { kind: 'tokenize', params: { input, outDir: path.join(root, 'datasets', `t-${input.length}`) } })
      expect(status, input).toBe(200)
      expect(reply.ok).toBe(true)
    }
  })
})

describe('path policy', () => {
  it('approves folders from GPTW_ALLOW_DIRS and from the host, and nothing while not enforced', () => {
    const ws = tempDir('gptw-policy-')
    const policy = new PathPolicy(() => [ws], { GPTW_ALLOW_DIRS: ['/etc', '/srv/none'].join(path.delimiter) })
    expect(policy.resolve('/usr/share/x', 'f')).toBe('/usr/share/x')
    policy.enforce()
    expect(policy.resolve('/etc/passwd', 'f')).toBe('/etc/passwd')
    expect(() => policy.resolve('/usr/share/x', 'f')).toThrow(/Forbidden: f names \/usr\/share\/x/)
    policy.allow('/usr/share')
    expect(policy.resolve('/usr/share/x', 'f')).toBe('/usr/share/x')
    expect(policy.resolve('sub/file', 'f')).toBe(path.join(ws, 'sub', 'file'))
    expect(() => policy.resolve(`${ws}-sibling/file`, 'f')).toThrow(/Forbidden/)
  })
})
