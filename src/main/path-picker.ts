// The Electron host's answer to a pick-path request (shared/path-pick.ts): show the native open
// dialog, and approve what the user picked in the workbench's path policy, so the API accepts that
// file or folder (and everything under a folder) for the rest of the session. The dialog is
// passed in: index.ts gives Electron's, a test gives a scripted one (no Electron binary here).
import { type PathPickResult, parsePathPickRequest } from '../shared/path-pick'
import type { PathPolicy } from './services/path-policy'

export interface OpenDialogOptions {
  title?: string
  properties: ('openFile' | 'openDirectory' | 'createDirectory')[]
}

export type ShowOpenDialog = (options: OpenDialogOptions) => Promise<{ canceled: boolean; filePaths: string[] }>

export async function pickApprovedPath(raw: unknown, showOpenDialog: ShowOpenDialog, policy: PathPolicy): Promise<PathPickResult> {
  const request = parsePathPickRequest(raw)
  if (typeof request === 'string') throw new Error(request)
  const properties: OpenDialogOptions['properties'] = request.kind === 'folder' ? ['openDirectory', 'createDirectory'] : ['openFile']
  const picked = await showOpenDialog({ title: request.title, properties })
  const chosen = picked.filePaths[0]
  if (picked.canceled || !chosen) return null
  policy.allow(chosen)
  return { path: chosen }
}
