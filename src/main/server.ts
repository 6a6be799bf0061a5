// The web host: the workbench API over HTTP and WebSocket on 127.0.0.1, protected by a random
// token, serving the built renderer. The same UI as the desktop app, in any browser.
//
// Auth: open the printed URL (`/?token=...`) once; the host answers with an HttpOnly, SameSite
// cookie and the token leaves the address bar. API clients may send `Authorization: Bearer`.
// The parts live in web/: auth.ts (token, Host, Origin), http-api.ts, socket.ts, static-files.ts.
// Paths in API inputs are kept to the workspace and approved folders (GPTW_ALLOW_DIRS; path-policy.ts).
import crypto from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { WebSocketServer } from 'ws'
import type { Workbench } from './services/workbench'
import { WebAuth } from './web/auth'
import { MAX_BODY_BYTES, handleApiRequest } from './web/http-api'
import { sendJson, sendText } from './web/respond'
import { serveSocket } from './web/socket'
import { serveStatic } from './web/static-files'

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

export function startWebHost(options: WebHostOptions): Promise<WebHost> {
  const { workbench } = options
  // Callers of the web host are not the user at a keyboard: API inputs may name only the workspace and approved folders.
  workbench.paths.enforce()
  const bindHost = options.host ?? '127.0.0.1'
  const auth = new WebAuth(options.token ?? crypto.randomBytes(24).toString('base64url'), bindHost)
  const rendererDir = path.resolve(options.rendererDir)

  const server = http.createServer((req, res) => {
    void handleHttp(workbench, auth, rendererDir, req, res).catch((err: Error) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'internal', message: err.message } })
      else res.end()
    })
  })

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES })
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname !== '/ws' || !auth.hostAllowed(req) || !auth.originAllowed(req) || !auth.authorized(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(workbench, ws))
  })

  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`Port ${options.port} on ${bindHost} is in use: choose another with --port, or --port 0 for a free one.`) : err)
    )
    server.listen(options.port ?? 0, bindHost, () => {
      const port = (auth.port = (server.address() as AddressInfo).port)
      resolve({
        url: `http://127.0.0.1:${port}/?token=${auth.token}`,
        port,
        token: auth.token,
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

/** One HTTP request: Host and token checked, the token swapped for a cookie, then the API or a file. */
async function handleHttp(workbench: Workbench, auth: WebAuth, rendererDir: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (!auth.hostAllowed(req)) return sendText(res, 403, 'Forbidden: unexpected Host header.')
  const url = new URL(req.url ?? '/', `http://${req.headers.host}`)
  if (!auth.authorized(req)) {
    return sendText(res, 401, 'GPT Workbench: this address needs its access token. Open the URL printed by `gptw serve` (it ends in ?token=...).')
  }
  if (url.searchParams.has('token') && req.method === 'GET') {
    res.setHeader('Set-Cookie', auth.cookie())
    url.searchParams.delete('token')
    res.writeHead(303, { Location: url.pathname + url.search })
    return void res.end()
  }
  if (url.pathname.startsWith('/api/')) return handleApiRequest(workbench, auth, url.pathname.slice('/api/'.length), req, res)
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'Method not allowed.')
  return serveStatic(rendererDir, url.pathname, res)
}
