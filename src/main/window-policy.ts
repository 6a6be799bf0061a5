// What the desktop app's web contents may do, as plain functions (no Electron import, so a unit
// test holds them): no permission is granted (Electron grants every request by default), no frame
// navigates anywhere but the app's own page, no window opens (http(s) links go to the browser), no
// <webview> attaches. index.ts wires these to the session and to every web contents created.

export interface WindowPolicy {
  /** The renderer's own page (the built index.html, or the dev server in development). */
  isOwnUrl(url: string | undefined): boolean
  /** session.setPermissionRequestHandler: every request denied. */
  onPermissionRequest(permission: string, callback: (granted: boolean) => void): void
  /** session.setPermissionCheckHandler: every check answered no. */
  onPermissionCheck(permission: string): boolean
  /** will-navigate / will-frame-navigate: whether the navigation may go ahead. */
  allowNavigation(url: string): boolean
  /** setWindowOpenHandler: always denied; an http(s) URL is handed to the user's browser. */
  onWindowOpen(url: string): { action: 'deny'; openExternal?: string }
  /** will-attach-webview: never. */
  allowWebview(): boolean
}

export function buildWindowPolicy(options: { devServerUrl?: string } = {}): WindowPolicy {
  const isOwnUrl = (url: string | undefined): boolean => {
    if (!url) return false
    if (options.devServerUrl && (url === options.devServerUrl || url.startsWith(options.devServerUrl.replace(/\/?$/, '/')))) return true
    try {
      const parsed = new URL(url)
      return parsed.protocol === 'file:' && decodeURIComponent(parsed.pathname).endsWith('/renderer/index.html')
    } catch {
      return false
    }
  }
  return {
    isOwnUrl,
    onPermissionRequest: (_permission, callback) => callback(false),
    onPermissionCheck: () => false,
    allowNavigation: (url) => isOwnUrl(url),
    onWindowOpen: (url) => (/^https?:\/\//i.test(url) ? { action: 'deny', openExternal: url } : { action: 'deny' }),
    allowWebview: () => false
  }
}
