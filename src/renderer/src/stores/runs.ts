// Training runs: the list, each opened run's details, metric series (kept live from pushed
// metric events), logs of its jobs, the runs overlaid for comparison, and the chart settings.
// Series are plain arrays outside Vue's reactivity (100k points must not be proxied); a
// per-run version number tells the charts when to redraw.
import { defineStore } from 'pinia'
import { markRaw } from 'vue'
import type { Job, JobLogLine } from '../../../shared/jobs'
import type { Series, XAxis } from '../../../shared/run-series'
import type { CheckpointInfo, Run } from '../../../shared/runs'
import { api } from '../api'
import { useJobsStore } from './jobs'

export type RunDetail = Run & { checkpoints: CheckpointInfo[] }
export type { Series, XAxis }
type LogLine = JobLogLine & { id: number }

const MAX_LOG_LINES = 3000
let subscribed = false

/** The train job's parameters carry the run it trains. */
export function runIdOf(job: Job | undefined | null): number | null {
  if (!job || job.kind !== 'train') return null
  const id = (job.params as { runId?: unknown } | null)?.runId
  return typeof id === 'number' ? id : null
}

export const useRunsStore = defineStore('runs', {
  state: () => ({
    list: [] as Run[],
    details: {} as Record<number, RunDetail>,
    series: {} as Record<number, Series>,
    /** Bumped whenever a run's series change. */
    versions: {} as Record<number, number>,
    logs: {} as Record<number, LogLine[]>,
    selectedId: null as number | null,
    compareIds: [] as number[],
    smoothing: 0.6,
    logY: false,
    xAxis: 'step' as XAxis,
    error: null as string | null
  }),
  getters: {
    selected: (state): RunDetail | null => (state.selectedId === null ? null : (state.details[state.selectedId] ?? null)),
    /** The runs drawn on the charts: the selected one first, then those ticked for comparison. */
    chartedIds: (state): number[] => [...new Set([...(state.selectedId === null ? [] : [state.selectedId]), ...state.compareIds])]
  },
  actions: {
    async init() {
      if (!subscribed) {
        subscribed = true
        api.onEvent((event) => {
          if (event.event === 'metric') this.onMetric(event.data.runId, event.data.step, event.data.values)
          if (event.event === 'job') void this.onJob(event.data)
          if (event.event === 'log' && this.logs[event.data.jobId]) {
            const lines = this.logs[event.data.jobId]
            if (!lines.some((l) => l.id === event.data.id)) lines.push(event.data)
            if (lines.length > MAX_LOG_LINES) lines.splice(0, lines.length - MAX_LOG_LINES)
          }
        })
        api.onConnection((connected) => {
          if (connected) void this.catchUp()
        })
      }
      await this.refreshList()
    },
    async refreshList() {
      try {
        this.list = await api.call('runs.list', { limit: 200 })
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Loads a run's details and series (once) and selects it. */
    async open(id: number) {
      this.selectedId = id
      await Promise.all([this.loadDetail(id), this.series[id] ? Promise.resolve() : this.loadSeries(id)])
      if (!this.list.some((r) => r.id === id)) await this.refreshList()
    },
    async loadDetail(id: number) {
      try {
        this.details[id] = await api.call('runs.get', { id })
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async loadSeries(id: number) {
      const { series } = await api.call('runs.series', { id })
      this.series[id] = markRaw(series)
      this.versions[id] = (this.versions[id] ?? 0) + 1
    },
    async toggleCompare(id: number) {
      if (this.compareIds.includes(id)) {
        this.compareIds = this.compareIds.filter((x) => x !== id)
        return
      }
      this.compareIds.push(id)
      if (!this.details[id]) await this.loadDetail(id)
      if (!this.series[id]) await this.loadSeries(id)
    },
    onMetric(runId: number, step: number, values: Record<string, number>) {
      const series = this.series[runId]
      if (!series) return
      for (const [name, value] of Object.entries(values)) {
        if (!Number.isFinite(value)) continue
        const s = (series[name] ??= { step: [], value: [] })
        // A resumed run continues from an earlier checkpoint: drop the abandoned continuation.
        if (s.step.length && s.step[s.step.length - 1] >= step) {
          let keep = s.step.length
          while (keep > 0 && s.step[keep - 1] >= step) keep--
          s.step.length = keep
          s.value.length = keep
        }
        s.step.push(step)
        s.value.push(value)
      }
      this.versions[runId] = (this.versions[runId] ?? 0) + 1
      const detail = this.details[runId]
      // Checkpoints come with validation steps; the backend is known from the first step on.
      if (detail && (values.valLoss !== undefined || !detail.backend)) void this.loadDetail(runId)
    },
    async onJob(job: Job) {
      const runId = runIdOf(job)
      if (runId === null) return
      // A new job of a run (a resume, from here or the CLI) becomes the run's current job.
      const listed = this.list.find((r) => r.id === runId)
      if (!listed || listed.jobId !== job.id) await this.refreshList()
      const detail = this.details[runId]
      if (detail && (detail.jobId !== job.id || job.state !== 'running')) await this.loadDetail(runId)
    },
    /** After a reconnect: fetch the points pushed while the socket was down. */
    async catchUp() {
      await this.refreshList()
      for (const id of Object.keys(this.series).map(Number)) await this.loadSeries(id)
      if (this.selectedId !== null) await this.loadDetail(this.selectedId)
    },
    /** The train jobs of a run, newest first (a resumed run has one per continuation). */
    jobsOf(runId: number): Job[] {
      return useJobsStore().list.filter((j) => runIdOf(j) === runId)
    },
    async loadLogs(jobId: number) {
      const page = await api.call('jobs.logs', { id: jobId, afterId: 0, limit: MAX_LOG_LINES })
      this.logs[jobId] = page.lines
    },
    async control(jobId: number, verb: 'pause' | 'resume' | 'cancel') {
      this.error = null
      try {
        useJobsStore().byId[jobId] = await api.call(`jobs.${verb}`, { id: jobId })
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Continues a run from one of its kept checkpoints, as a new job of the same run. */
    async resumeFrom(runId: number, step: number) {
      this.error = null
      try {
        const job = await api.call('jobs.start', { kind: 'train', params: { resume: { runId, step } } })
        useJobsStore().byId[job.id] = job
        const series = this.series[runId]
        if (series) {
          for (const s of Object.values(series)) {
            let keep = s.step.length
            while (keep > 0 && s.step[keep - 1] > step) keep--
            s.step.length = keep
            s.value.length = keep
          }
          this.versions[runId] = (this.versions[runId] ?? 0) + 1
        }
        await Promise.all([this.refreshList(), this.loadDetail(runId)])
      } catch (err) {
        this.error = (err as Error).message
      }
    }
  }
})
