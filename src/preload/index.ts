// The preload: exposes the workbench API as `window.workbench`, grouped by domain
// (`workbench.jobs.start(spec)`), plus one event subscription. Nothing else crosses over.
import { contextBridge, ipcRenderer } from 'electron'
import { API_METHODS, IPC_EVENT, IPC_INVOKE, groupMethods } from '../shared/api-methods'

const api: Record<string, unknown> = {}
for (const [domain, verbs] of Object.entries(groupMethods(API_METHODS))) {
  api[domain] = Object.fromEntries(verbs.map((verb) => [verb, (params?: unknown) => ipcRenderer.invoke(IPC_INVOKE, `${domain}.${verb}`, params)]))
}
api.onEvent = (listener: (event: unknown) => void): (() => void) => {
  const handler = (_: unknown, event: unknown): void => listener(event)
  ipcRenderer.on(IPC_EVENT, handler)
  return () => ipcRenderer.removeListener(IPC_EVENT, handler)
}

contextBridge.exposeInMainWorld('workbench', api)
