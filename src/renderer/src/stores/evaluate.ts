// Evaluate: the task catalogue, the checkpoints and tasks chosen, the run settings, the eval job
// started from here, and the results matrix for the chosen checkpoints, kept live from pushed
// `eval` events; plus the samples behind the cell being inspected.
import { defineStore } from 'pinia'
import type { EvalConfigInput } from '../../../shared/config/eval'
import type { EngineChoice, TorchDtypeChoice } from '../../../shared/config/train'
import type { EvalResultRow, EvalSamplePage, EvalTaskFailure, EvalTaskInfo } from '../../../shared/eval'
import { type MatrixColumn, toCsv, toJson, toMarkdown } from '../../../shared/eval-export'
import type { Job } from '../../../shared/jobs'
import type { CheckpointInfo, Run } from '../../../shared/runs'
import { api } from '../api'
import { useJobsStore } from './jobs'

export interface RunCheckpoints {
  run: Run
  checkpoints: CheckpointInfo[]
}

export interface Inspection {
  fingerprint: string
  task: string
  metric: string
  numFewshot: number
  label: string
  offset: number
  page: EvalSamplePage | null
  loading: boolean
}

export const SAMPLES_PER_PAGE = 10
let subscribed = false

const cellKey = (r: Pick<EvalResultRow, 'checkpoint' | 'task' | 'metric' | 'numFewshot'>) => `${r.checkpoint}\u0000${r.task}\u0000${r.metric}\u0000${r.numFewshot}`

export const useEvaluateStore = defineStore('evaluate', {
  state: () => ({
    tasks: [] as EvalTaskInfo[],
    runs: [] as RunCheckpoints[],
    checkpoints: [] as MatrixColumn[],
    selectedTasks: [] as string[],
    numFewshot: 0,
    limit: null as number | null,
    batchSize: 8,
    noCache: false,
    /** The engine that answers and, for PyTorch, its devices (one model server each, requests sharded). */
    engine: 'embedded' as EngineChoice,
    devices: ['cpu:0'] as string[],
    dtype: 'auto' as TorchDtypeChoice,
    huggingfaceBase: 'https://huggingface.co',
    mirrorsText: '{}',
    verifyChecksums: true,
    jobId: null as number | null,
    rows: [] as EvalResultRow[],
    failures: [] as EvalTaskFailure[],
    inspection: null as Inspection | null,
    error: null as string | null
  }),
  getters: {
    job(): Job | null {
      return this.jobId === null ? null : (useJobsStore().byId[this.jobId] ?? null)
    },
    running(): boolean {
      const j = this.job
      return !!j && (j.state === 'queued' || j.state === 'running' || j.state === 'paused')
    },
    families: (state): string[] => [...new Set(state.tasks.map((t) => t.family))].sort()
  },
  actions: {
    async init() {
      if (!subscribed) {
        subscribed = true
        api.onEvent((event) => {
          if (event.event === 'eval') this.merge(event.data.rows, event.data.failures)
          if (event.event === 'job' && event.data.kind === 'train' && event.data.state === 'done') void this.loadRuns()
        })
        api.onConnection((connected) => {
          if (connected) void this.refresh()
        })
      }
      try {
        this.tasks = await api.call('evals.tasks')
        await this.loadRuns()
        await this.refresh()
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async loadRuns() {
      const runs = await api.call('runs.list', { limit: 200 })
      this.runs = await Promise.all(runs.map(async (run) => ({ run, checkpoints: (await api.call('runs.get', { id: run.id })).checkpoints })))
    },
    /** The matrix for the chosen checkpoints, from the workspace's stored results. */
    async refresh() {
      if (!this.checkpoints.length) {
        this.rows = []
        this.failures = []
        return
      }
      const m = await api.call('evals.results', { checkpoints: this.checkpoints.map((c) => c.checkpoint) })
      this.rows = m.rows
      this.failures = m.failures
    },
    merge(rows: EvalResultRow[], failures: EvalTaskFailure[]) {
      const chosen = new Set(this.checkpoints.map((c) => c.checkpoint))
      const byKey = new Map(this.rows.map((r) => [cellKey(r), r]))
      for (const r of rows) if (chosen.has(r.checkpoint)) byKey.set(cellKey(r), r)
      this.rows = [...byKey.values()]
      const done = new Set(rows.map((r) => `${r.checkpoint}\u0000${r.task}`))
      this.failures = [...this.failures.filter((f) => !done.has(`${f.checkpoint}\u0000${f.task}`)), ...failures.filter((f) => chosen.has(f.checkpoint))]
    },
    addCheckpoint(checkpoint: string, label: string) {
      const path = checkpoint.trim()
      if (!path || this.checkpoints.some((c) => c.checkpoint === path)) return
      this.checkpoints.push({ checkpoint: path, label: label || path })
      void this.refresh()
    },
    removeCheckpoint(checkpoint: string) {
      this.checkpoints = this.checkpoints.filter((c) => c.checkpoint !== checkpoint)
      void this.refresh()
    },
    toggleTask(name: string) {
      this.selectedTasks = this.selectedTasks.includes(name) ? this.selectedTasks.filter((t) => t !== name) : [...this.selectedTasks, name]
    },
    selectTasks(names: string[], on: boolean) {
      const set = new Set(this.selectedTasks)
      for (const n of names) {
        if (on) set.add(n)
        else set.delete(n)
      }
      this.selectedTasks = this.tasks.map((t) => t.name).filter((n) => set.has(n))
    },
    config(): EvalConfigInput {
      let mirrors: Record<string, string>
      try {
        mirrors = JSON.parse(this.mirrorsText || '{}') as Record<string, string>
      } catch {
        throw new Error('Mirrors must be JSON: {"https://official.host": "http://your.mirror/path"}.')
      }
      return {
        checkpoints: this.checkpoints.map((c) => c.checkpoint),
        tasks: [...this.selectedTasks],
        numFewshot: this.numFewshot,
        ...(this.limit ? { limit: this.limit } : {}),
        noCache: this.noCache,
        batchSize: this.batchSize,
        engine: this.engine,
        ...(this.engine === 'embedded' ? {} : { devices: [...this.devices], dtype: this.dtype }),
        sources: { huggingfaceBase: this.huggingfaceBase, mirrors, verifyChecksums: this.verifyChecksums }
      }
    },
    async run() {
      this.error = null
      try {
        const job = await api.call('jobs.start', { kind: 'eval', params: this.config() })
        useJobsStore().byId[job.id] = job
        this.jobId = job.id
        // Checkpoint paths come back resolved: show them as the matrix's columns.
        const resolved = (job.params as { checkpoints?: { dir: string; label: string }[] }).checkpoints ?? []
        const before = this.checkpoints
        this.checkpoints = resolved.map((c, i) => ({ checkpoint: c.dir, label: before[i]?.label && before[i].label !== before[i].checkpoint ? before[i].label : c.label }))
        await this.refresh()
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async inspect(row: EvalResultRow, label: string) {
      this.inspection = { fingerprint: row.fingerprint, task: row.task, metric: row.metric, numFewshot: row.numFewshot, label, offset: 0, page: null, loading: true }
      await this.loadSamples(0)
    },
    async loadSamples(offset: number) {
      const i = this.inspection
      if (!i) return
      i.loading = true
      try {
        i.page = await api.call('evals.samples', { fingerprint: i.fingerprint, task: i.task, numFewshot: i.numFewshot, offset, limit: SAMPLES_PER_PAGE })
        i.offset = offset
      } catch (err) {
        this.error = (err as Error).message
      } finally {
        i.loading = false
      }
    },
    exportText(format: 'csv' | 'json' | 'md'): { name: string; mime: string; text: string } {
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')
      if (format === 'csv') return { name: `eval-results-${stamp}.csv`, mime: 'text/csv', text: toCsv(this.rows, this.checkpoints) }
      if (format === 'json') return { name: `eval-results-${stamp}.json`, mime: 'application/json', text: toJson(this.rows, this.checkpoints, this.failures) }
      return { name: `eval-results-${stamp}.md`, mime: 'text/markdown', text: toMarkdown(this.rows, this.checkpoints, this.failures) }
    }
  }
})
