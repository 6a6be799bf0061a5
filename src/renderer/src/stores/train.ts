// The Train view: the config being edited (form or JSON / YAML text), what it is compared with
// (a preset, a saved config or an imported seed file), its validation and live estimates, the
// datasets and devices to pick from, saving by name, and starting the run.
import { defineStore } from 'pinia'
import YAML from 'yaml'
import { type EstimatedCosts, costsOf, cpuPeakOf } from '../components/train/costs'
import { type Draft, flatten, getPath, issueMessage, setPath } from '../components/train/config-paths'
import type { MeasuredRun } from '../../../shared/config/estimates'
import { type SeedImportResult, importSeedConfig } from '../../../shared/config/seed-import'
import { TrainConfig } from '../../../shared/config/train'
import type { Preset } from '../../../shared/presets'
import type { SavedConfig } from '../../../shared/run-series'
import type { Dataset } from '../../../shared/runs'
import { api } from '../api'
import { useAppStore } from './app'
import { useJobsStore } from './jobs'
import { useRunsStore } from './runs'

export type EditMode = 'form' | 'json' | 'yaml'
const DEFAULT_PRESET = 'tiny-cpu'
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T

export const useTrainStore = defineStore('train', {
  state: () => ({
    presets: [] as Preset[],
    datasets: [] as Dataset[],
    saved: [] as SavedConfig[],
    /** What the draft is compared with, and its label ("preset tiny-cpu", "saved fast-lr", ...). */
    base: null as TrainConfig | null,
    baseLabel: '',
    /** The "Start from" picker's value: preset:<name>, saved:<name> or import. */
    baseKey: '',
    draft: {} as Draft,
    mode: 'form' as EditMode,
    text: '',
    textError: null as string | null,
    imported: null as (SeedImportResult & { fileName: string }) | null,
    importError: null as string | null,
    measured: [] as MeasuredRun[],
    starting: false,
    startError: null as string | null,
    saveMessage: null as string | null,
    saveError: null as string | null,
    /** The run started from this view, followed live. */
    liveRunId: null as number | null,
    /** The dataset last handed over from Data, applied once (a later pick in Train wins). */
    handedDir: null as string | null,
    loaded: false
  }),
  getters: {
    result: (state) => TrainConfig.safeParse(state.draft),
    /** Problems by dotted field path, in the form's words. */
    issues(): Record<string, string> {
      if (this.result.success) return {}
      const out: Record<string, string> = {}
      for (const issue of this.result.error.issues) {
        const key = issue.path.join('.') || '(config)'
        out[key] = out[key] ? `${out[key]}; ${issueMessage(issue)}` : issueMessage(issue)
      }
      return out
    },
    config(): TrainConfig | null {
      return this.result.success ? this.result.data : null
    },
    /** Why Train is blocked, one line per problem; empty when it may start. */
    blockers(): string[] {
      if (this.textError) return [`The ${this.mode.toUpperCase()} text does not parse: ${this.textError}`]
      return Object.entries(this.issues).map(([path, message]) => `${path}: ${message}`)
    },
    /** Fields whose value differs from the base, as [path, base, now]. */
    diff(): [string, unknown, unknown][] {
      if (!this.base) return []
      const before = flatten(this.base)
      const after = flatten(this.config ?? this.draft)
      const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => k !== 'name')
      return keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).map((k) => [k, before[k], after[k]])
    },
    costs(): EstimatedCosts | null {
      return costsOf(this.config, this.measured, cpuPeakOf(useAppStore().devices))
    },
    selectedDataset(): Dataset | null {
      const dir = this.draft.dataset
      return typeof dir === 'string' ? (this.datasets.find((d) => d.path === dir) ?? null) : null
    }
  },
  actions: {
    async init(handedDataset: { name: string; tokensDir: string } | null) {
      if (!this.loaded) {
        const [presets, saved] = await Promise.all([api.call('presets.list'), api.call('configs.list')])
        this.presets = presets
        this.saved = saved
        this.choosePreset(presets.some((p) => p.name === DEFAULT_PRESET) ? DEFAULT_PRESET : presets[0].name)
        this.loaded = true
      }
      await this.refreshDatasets()
      if (handedDataset && handedDataset.tokensDir !== this.handedDir) {
        this.handedDir = handedDataset.tokensDir
        this.setField('dataset', handedDataset.tokensDir)
      }
      void this.refreshMeasured()
    },
    async refreshDatasets() {
      this.datasets = await api.call('datasets.list')
    },
    /** Measured tokens/s of recent runs (the last 50 steps of each), for the time-per-step estimate. */
    async refreshMeasured() {
      const runs = (await api.call('runs.list', { limit: 8 })).filter((r) => r.backend)
      const measured: MeasuredRun[] = []
      for (const run of runs) {
        const { series } = await api.call('runs.series', { id: run.id, names: ['tokensPerSec'], tail: 50 })
        const values = [...(series.tokensPerSec?.value ?? [])].sort((a, b) => a - b)
        if (values.length >= 3) measured.push({ runId: run.id, config: run.config, tokensPerSec: values[Math.floor(values.length / 2)], backend: run.backend })
      }
      this.measured = measured
    },
    replaceDraft(config: unknown, base: TrainConfig | null, label: string) {
      const keep = { dataset: this.draft.dataset, devices: this.draft.devices }
      this.draft = clone(config) as Draft
      if (keep.dataset !== undefined && this.draft.dataset === undefined) this.draft.dataset = keep.dataset
      if (Array.isArray(keep.devices) && label.startsWith('preset')) this.draft.devices = keep.devices
      this.base = base ? clone(base) : null
      this.baseLabel = label
      this.textError = null
      this.startError = null
      this.syncText()
    },
    choosePreset(name: string) {
      const preset = this.presets.find((p) => p.name === name)
      if (!preset) return
      this.imported = null
      this.replaceDraft({ ...preset.config, name: preset.title }, { ...preset.config, name: preset.title }, `preset ${preset.name}`)
      this.baseKey = `preset:${name}`
    },
    chooseSaved(name: string) {
      const saved = this.saved.find((s) => s.name === name)
      if (!saved?.config) return
      this.imported = null
      this.replaceDraft(saved.config, saved.config, `saved config "${name}"`)
      this.baseKey = `saved:${name}`
    },
    importSeed(fileName: string, source: string) {
      this.importError = null
      try {
        const trainTokens = this.selectedDataset?.meta.trainTokens
        const devices = Array.isArray(this.draft.devices) ? (this.draft.devices as string[]) : undefined
        const dataset = typeof this.draft.dataset === 'string' ? this.draft.dataset : undefined
        const result = importSeedConfig(source, fileName, { presets: this.presets, trainTokens, devices, dataset })
        this.imported = { ...result, fileName }
        const parsed = TrainConfig.safeParse(result.config)
        this.replaceDraft(result.config, parsed.success ? parsed.data : null, `imported ${fileName}`)
        this.baseKey = 'import'
      } catch (err) {
        this.imported = null
        this.importError = `${fileName}: ${(err as Error).message}`
      }
    },
    setField(path: string, value: unknown) {
      this.startError = null
      setPath(this.draft, path, value)
      this.syncText()
    },
    field(path: string): unknown {
      return getPath(this.draft, path)
    },
    setMode(mode: EditMode) {
      if (this.textError) return // keep the broken text on screen until it parses
      this.mode = mode
      this.syncText()
    },
    syncText() {
      if (this.mode === 'json') this.text = JSON.stringify(this.draft, null, 2)
      if (this.mode === 'yaml') this.text = YAML.stringify(this.draft)
    },
    setText(text: string) {
      this.text = text
      this.startError = null
      try {
        const value: unknown = this.mode === 'json' ? JSON.parse(text) : YAML.parse(text)
        if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the config must be an object ({ ... }) at the top level')
        this.draft = value as Draft
        this.textError = null
      } catch (err) {
        this.textError = (err as Error).message.split('\n')[0]
      }
    },
    async save(name: string) {
      this.saveMessage = null
      this.saveError = null
      if (!this.config) {
        this.saveError = 'Fix the values marked in red before saving.'
        return
      }
      try {
        const saved = await api.call('configs.save', { name: name.trim(), config: this.config })
        this.saved = await api.call('configs.list')
        this.base = clone(saved.config)
        this.baseLabel = `saved config "${saved.name}"`
        this.baseKey = `saved:${saved.name}`
        this.draft.name = saved.name
        this.syncText()
        this.saveMessage = `Saved to ${saved.path}. The CLI runs it too: gptw train --config '${saved.path}'`
      } catch (err) {
        this.saveError = (err as Error).message
      }
    },
    /** Follows a run already training (after a reload, or one started from the CLI). */
    async follow(runId: number) {
      if (this.liveRunId !== null) return
      this.liveRunId = runId
      await useRunsStore().loadDetail(runId)
      if (!useRunsStore().series[runId]) await useRunsStore().loadSeries(runId)
    },
    async start() {
      this.startError = null
      const config = this.config
      if (!config || this.blockers.length) {
        this.startError = 'Training cannot start until the problems listed are fixed.'
        return
      }
      this.starting = true
      try {
        const baseName = this.base?.name
        const name = config.name && config.name !== baseName ? config.name : this.diff.length ? `${config.name ?? this.baseLabel} (edited)` : (config.name ?? this.baseLabel)
        const named = { ...config, name }
        const job = await api.call('jobs.start', { kind: 'train', params: { config: named } })
        useJobsStore().byId[job.id] = job
        const runId = (job.params as { runId?: number }).runId ?? null
        this.liveRunId = runId
        if (runId !== null) await useRunsStore().open(runId)
      } catch (err) {
        this.startError = (err as Error).message
      } finally {
        this.starting = false
      }
    }
  }
})
