// The desktop app's file and folder dialogs: the renderer asks the Electron host to show one, and a
// path the user picks there is approved for the API (the host enforces its path policy like the
// web host: main/path-picker.ts). Kept free of zod: the preload bundle imports the channel name.

export const IPC_PICK_PATH = 'workbench:pick-path'

export interface PathPickRequest {
  /** A file (e.g. a URL list, a corpus) or a folder (pages, a checkpoint, an output folder). */
  kind: 'file' | 'folder'
  /** The dialog's title, e.g. "Choose a checkpoint folder". */
  title?: string
}

/** The picked path, approved for this session; null when the user cancelled. */
export type PathPickResult = { path: string } | null

/** The request when `raw` is a valid one, else a message naming what is wrong. */
export function parsePathPickRequest(raw: unknown): PathPickRequest | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'A path pick request is an object: { kind: "file" | "folder", title? }.'
  const { kind, title, ...rest } = raw as Record<string, unknown>
  const extra = Object.keys(rest)
  if (extra.length) return `A path pick request has no "${extra[0]}" field; it takes kind and title.`
  if (kind !== 'file' && kind !== 'folder') return `kind must be "file" or "folder", got ${JSON.stringify(kind)}.`
  if (title !== undefined && (typeof title !== 'string' || title.length > 200)) return 'title must be a string of at most 200 characters.'
  return title === undefined ? { kind } : { kind, title }
}
