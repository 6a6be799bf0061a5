// WebSocket transport to the web host: request/reply by id, pushed events, reconnection with
// back-off (calls made while disconnected wait for the socket). A link down for a few tries is
// "lost", and a probe of the HTTP API tells a host that is gone (it stopped, or was restarted on
// another port) from one that answers but refuses this tab's token (restarted with a new one);
// retries go on either way, so a host restarted on the same port and token is found again.
import type { ApiEvent, Envelope } from '../../../shared/api'
import type { ConnectionStatus, WorkbenchClient } from './client'
import { unwrap } from './envelope'

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

/** Failed tries (250 ms, 500 ms, 1 s, 2 s apart) before the link reads as lost rather than reconnecting. */
const LOST_AFTER_TRIES = 4
const MAX_RETRY_MS = 5000

export function connectSocket(url: string, probeUrl?: string): WorkbenchClient {
  let socket: WebSocket | null = null
  let nextId = 1
  let retryMs = 250
  let failedTries = 0
  const pending = new Map<number, Pending>()
  const queue: string[] = []
  const eventListeners = new Set<(event: ApiEvent) => void>()
  const connectionListeners = new Set<(connected: boolean) => void>()
  const statusListeners = new Set<(status: ConnectionStatus) => void>()
  let status: ConnectionStatus = { state: 'reconnecting', address: new URL(url).host, since: Date.now() }

  const setStatus = (state: ConnectionStatus['state']): void => {
    if (state === status.state) return
    status = { ...status, state, since: state === 'connected' ? null : (status.since ?? Date.now()) }
    for (const l of statusListeners) l(status)
  }

  /** Gone (no answer) or refusing this tab (401: a new access token): only the HTTP API says which. */
  const probe = async (): Promise<void> => {
    if (!probeUrl) return setStatus('lost')
    try {
      const res = await fetch(probeUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', credentials: 'same-origin' })
      if (status.state !== 'connected') setStatus(res.status === 401 ? 'refused' : 'lost')
    } catch {
      if (status.state !== 'connected') setStatus('lost')
    }
  }

  const open = (): void => {
    socket = new WebSocket(url)
    socket.onopen = () => {
      retryMs = 250
      failedTries = 0
      setStatus('connected')
      for (const l of connectionListeners) l(true)
      while (queue.length) socket!.send(queue.shift()!)
    }
    socket.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as { id?: number; reply?: Envelope<unknown> } & Partial<ApiEvent>
      if (data.reply && typeof data.id === 'number') {
        const call = pending.get(data.id)
        pending.delete(data.id)
        try {
          call?.resolve(unwrap(data.reply))
        } catch (err) {
          call?.reject(err as Error)
        }
      } else if (data.event) {
        for (const l of eventListeners) l(data as ApiEvent)
      }
    }
    socket.onclose = () => {
      if (status.state === 'connected') {
        setStatus('reconnecting')
        for (const l of connectionListeners) l(false)
      }
      for (const call of pending.values()) call.reject(new Error('The connection to the workbench closed.'))
      pending.clear()
      failedTries++
      if (failedTries >= LOST_AFTER_TRIES) void probe()
      setTimeout(open, retryMs)
      retryMs = Math.min(retryMs * 2, MAX_RETRY_MS)
    }
  }
  open()

  return {
    transport: 'websocket',
    call(method, params) {
      const id = nextId++
      const text = JSON.stringify({ id, method, params })
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        if (socket?.readyState === WebSocket.OPEN) socket.send(text)
        else queue.push(text)
      })
    },
    onEvent(listener) {
      eventListeners.add(listener)
      return () => eventListeners.delete(listener)
    },
    onConnection(listener) {
      connectionListeners.add(listener)
    },
    onStatus(listener) {
      statusListeners.add(listener)
      listener(status)
    }
  }
}
