// The workbench API over HTTP: POST /api/<method> with a JSON body, answered with the method's
// envelope ({ok, value} or {ok: false, error}); 400 for the caller's errors, 500 for ours, 413 for a
// body over the cap (drained, not kept, so the client reads the 413 instead of a reset).
import type http from 'node:http'
import { API_METHODS, type ApiMethod } from '../../shared/api-methods'
import type { Workbench } from '../services/workbench'
import type { WebAuth } from './auth'
import { sendJson, sendText } from './respond'

export const MAX_BODY_BYTES = 1 << 20

/** Answers one API request from an authorized client; `method` is the path after /api/. */
export async function handleApiRequest(workbench: Workbench, auth: WebAuth, method: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'POST') return sendText(res, 405, 'API calls are POST requests with a JSON body.')
  if (!auth.originAllowed(req)) return sendText(res, 403, 'Forbidden: cross-origin request.')
  if (!(API_METHODS as readonly string[]).includes(method)) return sendJson(res, 404, { ok: false, error: { code: 'not_found', message: `Unknown API method "${method}".` } })
  let body: unknown
  try {
    body = await readJsonBody(req)
  } catch (err) {
    if (err instanceof BodyTooLarge) {
      return sendJson(res, 413, { ok: false, error: { code: 'too_large', message: err.message } })
    }
    return sendJson(res, 400, { ok: false, error: { code: 'bad_input', message: (err as Error).message } })
  }
  const reply = await workbench.call(method as ApiMethod, body)
  return sendJson(res, reply.ok ? 200 : reply.error.code === 'internal' ? 500 : reply.error.code === 'forbidden' ? 403 : 400, reply)
}

class BodyTooLarge extends Error {
  constructor() {
    super(`Request body over ${MAX_BODY_BYTES} bytes: API calls take at most ${MAX_BODY_BYTES / (1 << 20)} MiB of JSON.`)
  }
}

function readJsonBody(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      // Past the cap the rest is drained, not kept, and the 413 goes out once the client has sent
      // it all (destroying the socket mid-body is what clients saw as a reset); past 64 times the
      // cap the connection is cut after all.
      if (size > 64 * MAX_BODY_BYTES) req.destroy()
      else if (size > MAX_BODY_BYTES) {
        tooLarge = true
        chunks.length = 0
      } else chunks.push(chunk)
    })
    req.on('end', () => {
      if (tooLarge) return reject(new BodyTooLarge())
      const text = Buffer.concat(chunks).toString('utf8')
      if (!text.trim()) return resolve(undefined)
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new Error('The request body is not valid JSON.'))
      }
    })
    req.on('error', reject)
    req.on('close', () => reject(new Error('The connection closed before the request body was complete.')))
  })
}
