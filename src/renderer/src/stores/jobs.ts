// Jobs and their logs, kept live from the host's pushed events.
import { defineStore } from 'pinia'
import type { Job, JobLogLine } from '../../../shared/jobs'
import type { JobSpec } from '../../../shared/jobs'
import { api } from '../api'

type LogLine = JobLogLine & { id: number }
const MAX_LOG_LINES = 2000

export const useJobsStore = defineStore('jobs', {
  state: () => ({
    byId: {} as Record<number, Job>,
    logs: {} as Record<number, LogLine[]>,
    selectedId: null as number | null,
    error: null as string | null
  }),
  getters: {
    list: (state): Job[] => Object.values(state.byId).sort((a, b) => b.id - a.id),
    selected: (state): Job | null => (state.selectedId === null ? null : (state.byId[state.selectedId] ?? null))
  },
  actions: {
    async init() {
      api.onEvent((event) => {
        if (event.event === 'job') this.byId[event.data.id] = event.data
        if (event.event === 'log' && this.logs[event.data.jobId]) {
          const lines = this.logs[event.data.jobId]
          if (!lines.some((l) => l.id === event.data.id)) lines.push(event.data)
          if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES)
        }
      })
      api.onConnection((connected) => {
        if (connected) void this.refresh()
      })
      await this.refresh()
    },
    async refresh() {
      for (const job of await api.call('jobs.list', { limit: 200 })) this.byId[job.id] = job
    },
    async start(spec: JobSpec): Promise<Job | null> {
      this.error = null
      try {
        const job = await api.call('jobs.start', spec)
        this.byId[job.id] = job
        return job
      } catch (err) {
        this.error = (err as Error).message
        return null
      }
    },
    async control(id: number, verb: 'pause' | 'resume' | 'cancel') {
      this.error = null
      try {
        this.byId[id] = await api.call(`jobs.${verb}`, { id })
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async select(id: number | null) {
      this.selectedId = id
      if (id === null) return
      const page = await api.call('jobs.logs', { id, afterId: 0, limit: MAX_LOG_LINES })
      this.logs[id] = page.lines
    }
  }
})
