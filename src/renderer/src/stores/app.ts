// App-wide state: which view is open, host info, devices, whether the host is reachable, the
// colour theme (system unless the user picked one) and whether the Jobs pane is collapsed.
import { defineStore } from 'pinia'
import type { AppInfo } from '../../../shared/api'
import type { DeviceReport } from '../../../shared/devices'
import { api } from '../api'
import { type ThemeChoice, applyTheme, savedTheme, saveTheme } from '../theme'

export const VIEWS = ['start', 'data', 'train', 'evaluate', 'generate', 'runs'] as const
export type ViewName = (typeof VIEWS)[number]

const JOBS_KEY = 'gptw.jobsCollapsed'
const viewOfHash = (): ViewName | null => {
  const name = location.hash.slice(2)
  return (VIEWS as readonly string[]).includes(name) ? (name as ViewName) : null
}
const stored = (key: string): string | null => {
  try {
    return localStorage.getItem(key)
  } catch {
    return null // storage refused (a locked-down profile): defaults apply
  }
}

export const useAppStore = defineStore('app', {
  state: () => ({
    view: viewOfHash() ?? ('start' as ViewName),
    info: null as AppInfo | null,
    devices: null as DeviceReport | null,
    connected: false,
    error: null as string | null,
    theme: savedTheme(),
    /** The user's last choice; without one the pane starts collapsed on a narrow window. */
    jobsCollapsed: stored(JOBS_KEY) === null ? window.innerWidth < 1280 : stored(JOBS_KEY) === '1'
  }),
  actions: {
    async init() {
      api.onConnection((connected) => (this.connected = connected))
      window.addEventListener('hashchange', () => {
        const name = viewOfHash()
        if (name) this.view = name
      })
      try {
        this.info = await api.call('app.info')
        this.connected = true
        this.devices = await api.call('devices.list')
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    open(view: ViewName) {
      this.view = view
      location.hash = `#/${view}`
    },
    setTheme(theme: ThemeChoice) {
      this.theme = theme
      saveTheme(theme)
      applyTheme(theme)
    },
    toggleJobs() {
      this.jobsCollapsed = !this.jobsCollapsed
      try {
        localStorage.setItem(JOBS_KEY, this.jobsCollapsed ? '1' : '0')
      } catch {
        // not persisted; the pane still toggles
      }
    }
  }
})
