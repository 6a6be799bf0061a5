// The Electron host: one window over the workbench services. The renderer is sandboxed and talks
// to main only through the preload's typed API; every call is validated by Workbench.call. The
// window policy (window-policy.ts) denies every permission, navigation away, new window and webview,
// for the app window and any web contents created later.
import fs from 'node:fs'
import path from 'node:path'
import { BrowserWindow, app, dialog, ipcMain, session, shell } from 'electron'
import { API_METHODS, IPC_EVENT, IPC_INVOKE, type ApiMethod } from '../shared/api-methods'
import { CONTENT_SECURITY_POLICY } from '../shared/csp'
import { IPC_PICK_PATH } from '../shared/path-pick'
import { pickApprovedPath } from './path-picker'
import { Workbench } from './services/workbench'
import { buildWindowPolicy } from './window-policy'

const OUT_DIR = __dirname
const rendererIndex = path.join(OUT_DIR, '../renderer/index.html')
const version = (JSON.parse(fs.readFileSync(path.join(OUT_DIR, '../../package.json'), 'utf8')) as { version: string }).version

let workbench: Workbench | null = null
const policy = buildWindowPolicy({ devServerUrl: process.env.ELECTRON_RENDERER_URL })

/** Every web contents (the window's, and any created later) gets the same guards. */
function guardContents(contents: Electron.WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    const decision = policy.onWindowOpen(url)
    if (decision.openExternal) void shell.openExternal(decision.openExternal)
    return { action: 'deny' }
  })
  contents.on('will-navigate', (event) => {
    if (!policy.allowNavigation(event.url)) event.preventDefault()
  })
  contents.on('will-frame-navigate', (event) => {
    if (!policy.allowNavigation(event.url)) event.preventDefault()
  })
  contents.on('will-attach-webview', (event) => {
    if (!policy.allowWebview()) event.preventDefault()
  })
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    title: 'GPT Workbench',
    webPreferences: {
      preload: path.join(OUT_DIR, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true
    }
  })
  // Links open in the user's browser; the app never navigates away from its own page.
  guardContents(win.webContents)
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL)
  else void win.loadFile(rendererIndex)
  return win
}

app.on('web-contents-created', (_event, contents) => guardContents(contents))

void app.whenReady().then(() => {
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => policy.onPermissionRequest(permission, callback))
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => policy.onPermissionCheck(permission))
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } })
  })
  workbench = new Workbench({
    workersDir: path.join(OUT_DIR, 'workers'),
    resourcesDir: path.join(OUT_DIR, '../../resources'),
    host: 'electron',
    version,
    // Workers are forked from the Electron binary acting as plain Node.
    supervisor: { workerEnv: { ELECTRON_RUN_AS_NODE: '1' } }
  })
  ipcMain.handle(IPC_INVOKE, (event, method: unknown, params: unknown) => {
    if (!policy.isOwnUrl(event.senderFrame?.url)) return { ok: false, error: { code: 'forbidden', message: 'Calls are accepted from the app window only.' } }
    if (typeof method !== 'string' || !(API_METHODS as readonly string[]).includes(method)) {
      return { ok: false, error: { code: 'not_found', message: `Unknown API method "${String(method)}".` } }
    }
    return workbench!.call(method as ApiMethod, params)
  })
  // A renderer (or a bug in it) reaches only the workspace and what the user picked in a dialog.
  workbench.paths.enforce()
  ipcMain.handle(IPC_PICK_PATH, (event, request: unknown) => {
    if (!policy.isOwnUrl(event.senderFrame?.url)) throw new Error('Dialogs open for the app window only.')
    const win = BrowserWindow.fromWebContents(event.sender)
    return pickApprovedPath(request, (options) => (win ? dialog.showOpenDialog(win, options) : dialog.showOpenDialog(options)), workbench!.paths)
  })
  workbench.events.on('event', (event) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send(IPC_EVENT, event)
  })
  createWindow()
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow()
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})

app.on('will-quit', () => {
  void workbench?.close()
})
