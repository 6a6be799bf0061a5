// The web host: the workbench API over HTTP and WebSocket on 127.0.0.1, protected by a random
// token, serving the built renderer. The same UI as the desktop app, in any browser.
//
// Auth: open the printed URL (`/?token=...`) once; the host answers with an HttpOnly, SameSite
// cookie and the token leaves the address bar. API clients may send `Authorization: Bearer`.
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { type WebSocket, WebSocketServer } from 'ws'
import type { ApiEvent } from '../shared/api'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import { API_METHODS, type ApiMethod } from '../shared/api-methods'
import type { Workbench } from './services/workbench'

export interface WebHostOptions {
  workbench: Workbench
  rendererDir: string
  port?: number
  host?: string
  token?: string
}

export interface WebHost {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

const COOKIE = 'gptw_token'
const MAX_BODY_BYTES = 1 << 20

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm'
}

export function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { workbench } = options
  const token = options.token ?? crypto.randomBytes(24).toString('base64url')
  const bindHost = options.host ?? '127.0.0.1'
  const rendererDir = path.resolve(options.rendererDir)
  let port = 0

  const authorized = (req: http.IncomingMessage): boolean => {
    const url = new URL(req.url ?? '/', 'http://x')
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const candidates = [url.searchParams.get('token'), bearer, readCookie(req.headers.cookie, COOKIE)]
    return candidates.some((c) => c != null && safeEqual(c, token))
  }

  // Refuse requests whose Host is not ours (DNS rebinding) and cross-site WebSocket origins.
  const hostAllowed = (req: http.IncomingMessage): boolean => {
    const h = req.headers.host ?? ''
    return h === `127.0.0.1:${port}` || h === `localhost:${port}` || h === `${bindHost}:${port}`
  }
  const originAllowed = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin
    return origin === undefined || origin === `http://${req.headers.host}`
  }

  const server = http.createServer((req, res) => {
    void handleHttp(req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: err.message } })
      else res.end()
    })
  })

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (!hostAllowed(req)) return sendText(res, 403, 'Forbidden: unexpected Host header.')
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`)
    if (!authorized(req)) {
      return sendText(res, 401, 'GPT Workbench: this address needs its access token. Open the URL printed by `gptw serve` (it ends in ?token=...).')
    }
    if (url.searchParams.has('token') && req.method === 'GET') {
      res.setHeader('Set-Cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`)
      url.searchParams.delete('token')
      res.writeHead(303, { Location: url.pathname + url.search })
      return void res.end()
    }
    if (url.pathname.startsWith('/api/')) {
      if (req.method !== 'POST') return sendText(res, 405, 'API calls are POST requests with a JSON body.')
      if (!originAllowed(req)) return sendText(res, 403, 'Forbidden: cross-origin request.')
      const method = url.pathname.slice('/api/'.length)
      if (!(API_METHODS as readonly string[]).includes(method)) return sendJson(res, 404, { ok: false, error: { code: 'not_found', message: `Unknown API method "${method}".` } })
      let body: unknown
      try {
        body = await readJsonBody(req)
      } catch (err) {
        return sendJson(res, 400, { ok: false, error: { code: 'bad_input', message: (err as Error).message } })
      }
      const reply = await workbench.call(method as ApiMethod, body)
      return sendJson(res, reply.ok ? 200 : reply.error.code === 'internal' ? 500 : 400, reply)
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.')
    return serveStatic(url.pathname, res)
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    const rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname)
    const file = path.resolve(rendererDir, '.' + rel)
    if (!file.startsWith(rendererDir + path.sep)) return sendText(res, 404, 'Not found.')
    const target = fs.existsSync(file) && fs.statSync(file).isFile() ? file : path.extname(rel) ? null : path.join(rendererDir, 'index.html')
    if (!target || !fs.existsSync(target)) {
      return sendText(res, 404, target ? 'The renderer is not built: run `npm run build`.' : 'Not found.')
    }
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': MIME[path.extname(target)] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache'
    }
    if (target.endsWith('.html')) {
      headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY
      headers['X-Frame-Options'] = 'DENY'
    }
    res.writeHead(200, headers)
    fs.createReadStream(target).pipe(res)
  }

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/ws' || !hostAllowed(req) || !originAllowed(req) || !authorized(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws))
  })

  function serveSocket(ws: WebSocket): void {
    const forward = (event: ApiEvent): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event))
    }
    workbench.events.on('event', forward)
    ws.on('close', () => workbench.events.off('event', forward))
    ws.on('message', (data) => {
      let msg: { id?: unknown; method?: unknown; params?: unknown }
      try {
        msg = JSON.parse(String(data))
      } catch {
        return ws.send(JSON.stringify({ id: null, reply: { ok: false, error: { code: 'bad_input', message: 'Messages must be JSON.' } } }))
      }
      const id = typeof msg.id === 'number' || typeof msg.id === 'string' ? msg.id : null
      if (typeof msg.method !== 'string' || !(API_METHODS as readonly string[]).includes(msg.method)) {
        return ws.send(JSON.stringify({ id, reply: { ok: false, error: { code: 'not_found', message: `Unknown API method "${String(msg.method)}".` } } }))
      }
      void workbench.call(msg.method as ApiMethod, msg.params).then((reply) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id, reply }))
      })
    })
  }

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${options.port} on ${bindHost} is in use: choose another with --port, or --port 0 for a free one.`) : err)
    )
    server.listen(options.port ?? 0, bindHost, () => {
      port = (server.address() as AddressInfo).port
      resolve({
        url: `http://127.0.0.1:${port}/?token=${token}`,
        port,
        token,
        close: () =>
          new Promise<void>((done) => {
            for (const client of wss.clients) client.terminate()
            wss.close()
            server.close(() => done())
            server.closeAllConnections()
          })
      })
    })
  })
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && crypto.timingSafeEqual(x, y)
}

function readCookie(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return rest.join('=')
  }
  return null
}

function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(new Error(`Request body over ${MAX_BODY_BYTES} bytes.`))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      if (!text.trim()) return resolve(undefined)
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new Error('The request body is not valid JSON.'))
      }
    })
    req.on('error', reject)
  })
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
  res.end(JSON.stringify(body))
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' })
  res.end(text + '\n')
}
