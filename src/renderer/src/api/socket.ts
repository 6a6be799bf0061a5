// WebSocket transport to the web host: request/reply by id, pushed events, reconnection with
// back-off (calls made while disconnected wait for the socket).
import type { ApiEvent, Envelope } from '../../../shared/api'
import type { WorkbenchClient } from './client'
import { unwrap } from './envelope'

interface Pending {
  resolve: (value: unknown) => void
  reject: (err: Error) => void
}

export function connectSocket(url: string): WorkbenchClient {
  let socket: WebSocket | null = null
  let nextId = 1
  let retryMs = 250
  const pending = new Map<number, Pending>()
  const queue: string[] = []
  const eventListeners = new Set<(event: ApiEvent) => void>()
  const connectionListeners = new Set<(connected: boolean) => void>()

  const open = (): void => {
    socket = new WebSocket(url)
    socket.onopen = () => {
      retryMs = 250
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
      for (const l of connectionListeners) l(false)
      for (const call of pending.values()) call.reject(new Error('The connection to the workbench closed.'))
      pending.clear()
      setTimeout(open, retryMs)
      retryMs = Math.min(retryMs * 2, 5000)
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
    }
  }
}
