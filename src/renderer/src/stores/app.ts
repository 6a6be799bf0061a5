// App-wide state: which view is open, host info, devices, and whether the host is reachable.
import { defineStore } from 'pinia'
import type { AppInfo } from '../../../shared/api'
import type { DeviceReport } from '../../../shared/devices'
import { api } from '../api'

export const VIEWS = ['data', 'train', 'evaluate', 'generate', 'runs'] as const
export type ViewName = (typeof VIEWS)[number]

export const useAppStore = defineStore('app', {
  state: () => ({
    view: (VIEWS as readonly string[]).includes(location.hash.slice(2)) ? (location.hash.slice(2) as ViewName) : ('data' as ViewName),
    info: null as AppInfo | null,
    devices: null as DeviceReport | null,
    connected: false,
    error: null as string | null
  }),
  actions: {
    async init() {
      api.onConnection((connected) => (this.connected = connected))
      window.addEventListener('hashchange', () => {
        const name = location.hash.slice(2)
        if ((VIEWS as readonly string[]).includes(name)) this.view = name as ViewName
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
    }
  }
})
