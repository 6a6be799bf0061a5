// The workbench API over one WebSocket: every workbench event is pushed as it happens, and
// {id, method, params} messages are answered with {id, reply} (the same envelope as HTTP).
import type { WebSocket } from 'ws'
import type { ApiEvent } from '../../shared/api'
import { API_METHODS, type ApiMethod } from '../../shared/api-methods'
import type { Workbench } from '../services/workbench'

export function serveSocket(workbench: Workbench, ws: WebSocket): void {
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
