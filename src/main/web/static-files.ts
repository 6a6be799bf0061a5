// The built renderer as static files: paths stay inside its folder, unknown paths without an
// extension get index.html (the app routes itself), HTML carries the CSP and may not be framed.
// A malformed percent-escape is the caller's error (400).
import fs from 'node:fs'
import type http from 'node:http'
import path from 'node:path'
import { CONTENT_SECURITY_POLICY } from '../../shared/csp'
import { sendText } from './respond'

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

/** Serves `pathname` from `rendererDir` (an absolute, resolved path). */
export function serveStatic(rendererDir: string, pathname: string, res: http.ServerResponse): void {
  let rel: string
  try {
    rel = decodeURIComponent(pathname === '/' ? '/index.html' : pathname)
  } catch {
    return sendText(res, 400, 'Bad request: the path has a malformed percent-escape.')
  }
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
