// Evaluate during training: the watched runs (kept live from pushed `eval-watch` events), and
// watching a run with the Evaluate view's chosen tasks and settings. A checkpoint a watch starts
// evaluating becomes a column of the matrix, whose cells then fill in as usual.
import { defineStore } from 'pinia'
import type { EvalWatch } from '../../../shared/eval-watch'
import { api } from '../api'
import { useEvaluateStore } from './evaluate'

let subscribed = false
/** Eval jobs whose checkpoint was already added as a column (the user may remove it again). */
const shownJobs = new Set<number>()
/** Train jobs seen starting: their runs join the run lists once. */
const seenTrainJobs = new Set<number>()

export const useEvalWatchStore = defineStore('evalWatch', {
  state: () => ({
    watches: [] as EvalWatch[],
    runId: null as number | null,
    error: null as string | null
  }),
  getters: {
    byRun: (state): Record<number, EvalWatch> => Object.fromEntries(state.watches.map((w) => [w.runId, w]))
  },
  actions: {
    async init() {
      if (!subscribed) {
        subscribed = true
        api.onEvent((event) => {
          if (event.event === 'eval-watch') this.update(event.data)
          if (event.event === 'job' && event.data.kind === 'train' && !seenTrainJobs.has(event.data.id)) {
            seenTrainJobs.add(event.data.id)
            void useEvaluateStore().loadRuns()
          }
        })
        api.onConnection((connected) => {
          if (connected) void this.load()
        })
      }
      await this.load()
    },
    async load() {
      try {
        this.update(await api.call('evals.watches'))
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    update(watches: EvalWatch[]) {
      this.watches = watches
      const evaluate = useEvaluateStore()
      for (const w of watches) {
        if (!w.active || shownJobs.has(w.active.jobId)) continue
        shownJobs.add(w.active.jobId)
        evaluate.addCheckpoint(w.active.checkpoint, `run ${w.runId} step ${w.active.step}`)
        void evaluate.loadRuns()
      }
    },
    async watch() {
      this.error = null
      if (this.runId === null) return
      try {
        const c = useEvaluateStore().config()
        const watch = await api.call('evals.watch', { runId: this.runId, tasks: c.tasks, numFewshot: c.numFewshot, limit: c.limit, batchSize: c.batchSize, sources: c.sources })
        this.update([watch, ...this.watches.filter((w) => w.runId !== watch.runId)])
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async unwatch(runId: number) {
      this.error = null
      try {
        this.update(await api.call('evals.unwatch', { runId }))
      } catch (err) {
        this.error = (err as Error).message
      }
    }
  }
})
