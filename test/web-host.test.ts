// The web host over a real Workbench: token auth, Host/Origin checks, static files, the HTTP and
// WebSocket API, and pushed job events.
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { deviceMetrics } from '../src/shared/device-figures'
import { TrainConfig } from '../src/shared/config/train'
import { startWebHost, type WebHost } from '../src/main/server'
import { Workbench } from '../src/main/services/workbench'
import { MOBY_DICK, RENDERER_DIR, RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from './helpers'

let workbench: Workbench
let host: WebHost
let workspaceRoot: string

beforeAll(async () => {
  workspaceRoot = tempDir()
  workbench = new Workbench({ workspaceRoot, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  host = await startWebHost({ workbench, rendererDir: RENDERER_DIR, port: 0 })
})
afterAll(async () => {
  await host.close()
  await workbench.close()
})

function request(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: host.port, path, method: init.method ?? 'GET', headers: init.headers }, (res) => {
      let body = ''
      res
        .setEncoding('utf8')
        .on('data', (c) => (body += c))
        .on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

const bearer = () => ({ Authorization: `Bearer ${host.token}` })

function openSocket(headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('error', reject)
  })
}

describe('web host', () => {
  it('binds 127.0.0.1 and prints a URL carrying a long random token', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[\\w-]{32}$`))
  })

  it('refuses every path without the token', async () => {
    for (const path of ['/', '/index.html', '/assets/x.js']) expect((await request(path)).status).toBe(401)
    expect((await request('/api/jobs.list', { method: 'POST' })).status).toBe(401)
    expect((await request('/?token=wrong')).status).toBe(401)
  })

  it('exchanges the token in the URL for an HttpOnly cookie, then serves the app with a strict CSP', async () => {
    const first = await request(`/?token=${host.token}`)
    expect(first.status).toBe(303)
    const cookie = first.headers['set-cookie']![0]
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/)
    const page = await request('/', { headers: { Cookie: cookie.split(';')[0] } })
    expect(page.status).toBe(200)
    expect(page.body).toContain('<div id="app">')
    expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/)
    const script = /src="\.?(\/assets\/[^"]+\.js)"/.exec(page.body)![1]
    const asset = await request(script, { headers: { Cookie: cookie.split(';')[0] } })
    expect(asset.status).toBe(200)
    expect(asset.headers['content-type']).toMatch(/javascript/)
  })

  it('refuses a foreign Host header (DNS rebinding) and paths outside the renderer', async () => {
    expect((await request('/', { headers: { ...bearer(), Host: 'evil.example:80' } })).status).toBe(403)
    expect((await request('/../../package.json', { headers: bearer() })).status).toBe(404)
    expect((await request('/%2e%2e/%2e%2e/package.json', { headers: bearer() })).status).toBe(404)
  })

  it('answers API calls over HTTP in the envelope, with validation errors as 400', async () => {
    const info = await request('/api/app.info', { method: 'POST', headers: bearer() })
    expect(JSON.parse(info.body)).toMatchObject({ ok: true, value: { host: 'web', version: 'test' } })
    const bad = await request('/api/jobs.start', { method: 'POST', headers: bearer(), body: JSON.stringify({ kind: 'tokenize', params: { input: 42 } }) })
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).error.message).toMatch(/params\.input/)
    const notJson = await request('/api/jobs.list', { method: 'POST', headers: bearer(), body: '{oops' })
    expect(notJson.status).toBe(400)
    expect((await request('/api/fs.delete', { method: 'POST', headers: bearer() })).status).toBe(404)
    const crossSite = await request('/api/jobs.list', { method: 'POST', headers: { ...bearer(), Origin: 'http://evil.example' } })
    expect(crossSite.status).toBe(403)
  })

  it('refuses WebSocket upgrades without the token or from another origin', async () => {
    await expect(openSocket({})).rejects.toThrow(/401/)
    await expect(openSocket({ ...bearer(), Origin: 'http://evil.example' })).rejects.toThrow(/401/)
  })

  it('answers calls over the WebSocket and pushes job events until the job is done', async () => {
    const ws = await openSocket(bearer())
    const messages: { id?: number; reply?: { ok: boolean; value: { id: number } }; event?: string; data?: { id: number; state: string } }[] = []
    ws.on('message', (data) => messages.push(JSON.parse(String(data))))
    // The web host reads only inside the workspace (issue 13 F7): the book is copied there first.
    const input = path.join(workspaceRoot, 'moby-dick.txt')
    fs.copyFileSync(MOBY_DICK, input)
    ws.send(JSON.stringify({ id: 7, method: 'jobs.start', params: { kind: 'tokenize', params: { input } } }))
    const jobId = await waitFor(() => messages.find((m) => m.id === 7)?.reply?.value.id, 30_000, 'the reply to jobs.start')
    await waitFor(() => messages.some((m) => m.event === 'job' && m.data?.id === jobId && m.data.state === 'done'), 30_000, 'the job done event')
    expect(jobId).toBeGreaterThan(0)
    const states = messages.filter((m) => m.event === 'job' && m.data?.id === jobId).map((m) => m.data!.state)
    expect(states).toContain('running')
    expect(states.at(-1)).toBe('done')
    expect(messages.some((m) => m.event === 'log')).toBe(true)
    ws.send(JSON.stringify({ id: 8, method: 'no.such', params: {} }))
    const reply = await waitFor(() => messages.find((m) => m.id === 8)?.reply, 10_000, 'the reply to no.such')
    expect(reply.ok).toBe(false)
    ws.close()
  })

  it('takes ?token= only on the bootstrap GET of a page, never for the API or the WebSocket (issue 13)', async () => {
    expect((await request(`/?token=${host.token}`)).status).toBe(303)
    expect((await request(`/api/app.info?token=${host.token}`, { method: 'POST' })).status).toBe(401)
    expect((await request(`/api/app.info?token=${host.token}`)).status).toBe(401)
    await expect(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/ws?token=${host.token}`)
        ws.once('open', () => resolve(ws.close()))
        ws.once('error', reject)
      })
    ).rejects.toThrow(/401/)
  })

  it('answers a malformed percent-escape in a static path with 400, not 500 (issue 13)', async () => {
    for (const path of ['/%E0%A4%A', '/assets/%zz.js', '/%']) {
      const reply = await request(path, { headers: bearer() })
      expect(reply.status, path).toBe(400)
      expect(reply.body).toMatch(/malformed percent-escape/)
    }
  })

  it('filters runs.series by per-device names (rssMb@1) as by plain ones, and refuses unknown figures and malformed ranks (issue 14)', async () => {
    const config = TrainConfig.parse({ model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 }, batchSize: 4, steps: 3, devices: ['cpu:0', 'cpu:1'] })
    const run = workbench.runs.create('devices', config, '/data/none', (id) => path.join(workbench.workspace.runsDir, String(id)))
    // Stored as a 2-worker step stores its devices' figures.
    for (let step = 1; step <= 3; step++)
      workbench.runs.addMetrics(run.id, step, {
        loss: 11 - step,
        ...deviceMetrics([
          { rank: 0, pid: 100, rssMb: 400 + step, stepSeconds: 0.25 },
          { rank: 1, pid: 101, rssMb: 500 + step, stepSeconds: 0.3 }
        ])
      })
    const series = (names: string[]) => request('/api/runs.series', { method: 'POST', headers: bearer(), body: JSON.stringify({ id: run.id, names }) })
    const picked = await series(['rssMb@1', 'loss', 'pid@0', 'stepSeconds@7'])
    expect(picked.status, picked.body).toBe(200)
    expect(JSON.parse(picked.body).value.series).toEqual({
      'rssMb@1': { step: [1, 2, 3], value: [501, 502, 503] },
      loss: { step: [1, 2, 3], value: [10, 9, 8] },
      'pid@0': { step: [1, 2, 3], value: [100, 100, 100] }
    })
    for (const bad of ['rss@1', 'rssMb@', 'rssMb@x', 'rssMb@01', 'rssMb@-1', 'rssMb@1@2', "rssMb@1' OR 1=1"]) {
      const reply = await series([bad])
      expect(reply.status, bad).toBe(400)
      expect(JSON.parse(reply.body).error.message, bad).toMatch(/names\.0.*device figure at a rank \(rssMb@1\)/)
    }
  })

  it('answers a 10 MB body with 413, not a connection reset (issue 13)', async () => {
    const big = 'x'.repeat(10 * 1024 * 1024)
    const reply = await request('/api/jobs.list', { method: 'POST', headers: { ...bearer(), 'Content-Type': 'application/json' }, body: big })
    expect(reply.status).toBe(413)
    expect(JSON.parse(reply.body).error).toMatchObject({ code: 'too_large' })
    // The same connection pool still works afterwards.
    expect((await request('/api/app.info', { method: 'POST', headers: bearer() })).status).toBe(200)
  })
})
