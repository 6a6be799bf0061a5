// The preload: exposes the workbench API as `window.workbench`, grouped by domain
// (`workbench.jobs.start(spec)`), plus one event subscription and the file dialog. Nothing else crosses over.
import { contextBridge, ipcRenderer } from 'electron'
import { API_METHODS, IPC_EVENT, IPC_INVOKE, groupMethods } from '../shared/api-methods'
import { IPC_PICK_PATH } from '../shared/path-pick'

const api: Record<string, unknown> = {}
for (const [domain, verbs] of Object.entries(groupMethods(API_METHODS))) {
  api[domain] = Object.fromEntries(verbs.map((verb) => [verb, (params?: unknown) => ipcRenderer.invoke(IPC_INVOKE, `${domain}.${verb}`, params)]))
}
api.onEvent = (listener: (event: unknown) => void): (() => void) => {
  const handler = (_: unknown, event: unknown): void => listener(event)
  ipcRenderer.on(IPC_EVENT, handler)
  return () => ipcRenderer.removeListener(IPC_EVENT, handler)
}

// The desktop's file and folder dialogs; a picked path is approved for the API (main/path-picker.ts).
api.pickPath = (request: unknown): Promise<unknown> => ipcRenderer.invoke(IPC_PICK_PATH, request)

contextBridge.exposeInMainWorld('workbench', api)
