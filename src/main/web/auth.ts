// Who may talk to the web host: the access token (in the URL once, then an HttpOnly SameSite
// cookie, or `Authorization: Bearer`), a Host header naming us (against DNS rebinding) and, for
// API calls and WebSockets, no cross-site Origin. `?token=` counts only on the bootstrap GET of a
// page (the printed URL): never for the API or the WebSocket, where a URL leaks into logs.
import crypto from 'node:crypto'
import type http from 'node:http'

export const TOKEN_COOKIE = 'gptw_token'

export class WebAuth {
  /** The port the host listens on, known once it does. */
  port = 0

  constructor(
    readonly token: string,
    private readonly bindHost: string
  ) {}

  authorized(req: http.IncomingMessage): boolean {
    const url = new URL(req.url ?? '/', 'http://x')
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1]
    const bootstrap = req.method === 'GET' && !url.pathname.startsWith('/api/') && url.pathname !== '/ws' && !req.headers.upgrade
    const candidates = [bootstrap ? url.searchParams.get('token') : null, bearer, readCookie(req.headers.cookie, TOKEN_COOKIE)]
    return candidates.some((c) => c != null && safeEqual(c, this.token))
  }

  /** Refuses requests whose Host is not ours (DNS rebinding). */
  hostAllowed(req: http.IncomingMessage): boolean {
    const h = req.headers.host ?? ''
    return h === `127.0.0.1:${this.port}` || h === `localhost:${this.port}` || h === `${this.bindHost}:${this.port}`
  }

  /** Refuses cross-site API calls and WebSocket origins. */
  originAllowed(req: http.IncomingMessage): boolean {
    const origin = req.headers.origin
    return origin === undefined || origin === `http://${req.headers.host}`
  }

  /** The cookie that replaces the token in the address bar. */
  cookie(): string {
    return `${TOKEN_COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=/`
  }
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
