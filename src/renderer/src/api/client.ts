// The renderer's API client: Electron IPC through the preload when it exists, otherwise a
// WebSocket to the web host. Views and stores only see this interface.
import type { ApiEvent, ApiInput, ApiReply, Envelope } from '../../../shared/api'
import type { ApiMethod } from '../../../shared/api-methods'
import { unwrap } from './envelope'
import { connectSocket } from './socket'

/**
 * Where the link to the host stands: connected; reconnecting (a drop, retried at once); lost (the
 * host has not answered for a while: it stopped, or came back elsewhere); refused (a host answers
 * at this address but not to this tab's access token: it was restarted with a new one).
 */
export interface ConnectionStatus {
  state: 'connected' | 'reconnecting' | 'lost' | 'refused'
  /** Where this tab connects (host:port). */
  address: string
  /** When the link went down (ms since the epoch); null while connected. */
  since: number | null
}

export interface WorkbenchClient {
  call<M extends ApiMethod>(method: M, params?: ApiInput<M>): Promise<ApiReply<M>>
  onEvent(listener: (event: ApiEvent) => void): () => void
  onConnection(listener: (connected: boolean) => void): void
  /** Called with the current status at once and on every change. */
  onStatus(listener: (status: ConnectionStatus) => void): void
  transport: 'ipc' | 'websocket'
}

/** The shape the preload exposes on window.workbench. */
type PreloadApi = Record<string, Record<string, (params?: unknown) => Promise<Envelope<unknown>>>> & {
  onEvent(listener: (event: ApiEvent) => void): () => void
}

function ipcClient(preload: PreloadApi): WorkbenchClient {
  return {
    transport: 'ipc',
    async call(method, params) {
      const [domain, verb] = method.split('.')
      return unwrap(await preload[domain][verb](params)) as never
    },
    onEvent: (listener) => preload.onEvent(listener),
    onConnection: (listener) => listener(true),
    onStatus: (listener) => listener({ state: 'connected', address: 'ipc', since: null })
  }
}

export function createClient(): WorkbenchClient {
  const preload = (window as unknown as { workbench?: PreloadApi }).workbench
  return preload ? ipcClient(preload) : connectSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`, `${location.origin}/api/app.info`)
}
