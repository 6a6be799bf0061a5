// The Generate view's state: checkpoints to pick from (runs' checkpoints and folders typed in),
// loaded models, the sampling parameters, the generations on screen (one, or two side by side)
// kept live from the pushed events, and the searchable history.
import { defineStore } from 'pinia'
import { toRaw } from 'vue'
import { type GenerateCheckpoint, type GenerationEvent, type GenerationRecord, type ModelSession, SAMPLING_PRESETS, SamplingParams, type SamplingPresetName } from '../../../shared/generate'
import type { EngineChoice, TorchDtypeChoice } from '../../../shared/config/train'
import { api } from '../api'

export type LiveGeneration = GenerationRecord & { tokenInfo: NonNullable<GenerationRecord['tokenInfo']> }

export interface CheckpointChoice {
  path: string
  label: string
  group: string
}

const HISTORY_LIMIT = 50
/** Pushed events are taken once, whichever of init (the Generate view) and watchModels (the Loaded models list) runs first. */
let subscribed = false

export const useGenerateStore = defineStore('generate', {
  state: () => ({
    checkpoints: [] as GenerateCheckpoint[],
    /** Folders typed in (Hugging Face GPT-2 folders, checkpoints outside runs). */
    folders: [] as string[],
    models: {} as Record<string, ModelSession>,
    checkpoint: '',
    /** The engine models are loaded on and, for PyTorch, the one device of its model server. */
    engine: 'embedded' as EngineChoice,
    devices: ['cpu:0'] as string[],
    dtype: 'auto' as TorchDtypeChoice,
    compare: false,
    compareWith: '',
    params: SamplingParams.parse({ maxNewTokens: 120 }) as SamplingParams,
    preset: 'greedy' as SamplingPresetName | 'greedy' | 'custom',
    prompt: '',
    /** Ids of the generations shown in the console (two when comparing). */
    shown: [] as number[],
    live: {} as Record<number, LiveGeneration>,
    mode: 'text' as 'text' | 'tokens',
    history: [] as GenerationRecord[],
    query: '',
    error: null as string | null
  }),
  getters: {
    choices(state): CheckpointChoice[] {
      const runs = state.checkpoints.map((c) => ({ path: c.path, label: `${c.runName} · step ${c.step}${c.valLoss != null ? ` · val ${c.valLoss.toFixed(2)}` : ''}`, group: `Run ${c.runId}` }))
      const folders = state.folders.filter((f) => !runs.some((r) => r.path === f)).map((f) => ({ path: f, label: shortPath(f), group: 'Folders' }))
      return [...runs, ...folders]
    },
    current(state): LiveGeneration[] {
      return state.shown.map((id) => state.live[id]).filter((g): g is LiveGeneration => !!g)
    },
    running(): boolean {
      return this.current.some((g) => g.state === 'running')
    }
  },
  actions: {
    async init() {
      this.subscribe()
      await Promise.all([this.refresh(), this.search()])
    },
    subscribe() {
      if (subscribed) return
      subscribed = true
      api.onEvent((e) => {
        if (e.event === 'generation') this.onEvent(e.data)
      })
      api.onConnection((connected) => {
        if (connected) void this.refreshModels()
      })
    },
    /** Keeps the loaded models current without the rest of the Generate view (the Jobs pane's Loaded models list). */
    async watchModels() {
      this.subscribe()
      await this.refreshModels()
    },
    async refreshModels() {
      try {
        const live = await api.call('generate.models')
        // a model not listed any more (the host restarted, or it was unloaded elsewhere) is gone
        for (const m of Object.values(this.models)) if (!live.some((l) => l.checkpoint === m.checkpoint) && m.state !== 'failed') m.state = 'unloaded'
        for (const m of live) this.models[m.checkpoint] = m
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async refresh() {
      try {
        const [checkpoints, models] = await Promise.all([api.call('generate.checkpoints'), api.call('generate.models')])
        this.checkpoints = checkpoints
        for (const m of models) this.models[m.checkpoint] = m
        if (!this.checkpoint && checkpoints.length) this.checkpoint = checkpoints[0].path
        if (!this.compareWith && checkpoints.length > 1) this.compareWith = checkpoints[1].path
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Loads a checkpoint on the chosen engine (a model loaded on another engine is loaded again). */
    async load(checkpoint?: string): Promise<ModelSession> {
      const session = await api.call('generate.load', {
        checkpoint: checkpoint ?? this.checkpoint,
        engine: this.engine,
        ...(this.engine === 'embedded' ? {} : { device: this.devices[0] ?? 'cpu:0', dtype: this.dtype })
      })
      this.models[session.checkpoint] = session
      return session
    },
    async loadChosen() {
      this.error = null
      try {
        await this.load()
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Checks a typed folder by loading it; on success it joins the picker and is selected. */
    async useFolder(folder: string) {
      this.error = null
      try {
        const session = await this.load(folder.trim())
        this.models[session.checkpoint] = session
        if (!this.folders.includes(session.checkpoint)) this.folders.push(session.checkpoint)
        this.checkpoint = session.checkpoint
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    applyPreset(name: SamplingPresetName | 'greedy') {
      this.preset = name
      Object.assign(this.params, name === 'greedy' ? { temperature: 0, topK: 0, topP: 0, repetitionPenalty: 1 } : SAMPLING_PRESETS[name])
    },
    async generate() {
      this.error = null
      const targets = this.compare && this.compareWith ? [this.checkpoint, this.compareWith] : [this.checkpoint]
      if (!this.checkpoint) return void (this.error = 'Pick a checkpoint first (train a run, or give a Hugging Face GPT-2 folder).')
      const group = targets.length > 1 ? `cmp-${Date.now().toString(36)}` : undefined
      const params = structuredClone(toRaw(this.params))
      try {
        const started: GenerationRecord[] = []
        // on the engine picked: the same one is kept, another one is loaded
        for (const checkpoint of targets) await this.load(checkpoint)
        for (const checkpoint of targets) started.push(await api.call('generate.start', { checkpoint, prompt: this.prompt, params, compareGroup: group }))
        for (const r of started) this.live[r.id] ??= { ...r, tokenInfo: [] }
        this.shown = started.map((r) => r.id)
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** The same prompt again with the next seed. */
    async regenerate() {
      this.params.seed = (this.params.seed + 1) >>> 0
      await this.generate()
    },
    async stop() {
      for (const g of this.current.filter((c) => c.state === 'running')) {
        try {
          await api.call('generate.stop', { id: g.id })
        } catch (err) {
          this.error = (err as Error).message
        }
      }
    },
    async unload(checkpoint: string) {
      for (const m of await api.call('generate.unload', { checkpoint })) this.models[m.checkpoint] = m
    },
    /** Switches the OpenAI-compatible API over a loaded model on or off. */
    async serve(checkpoint: string, on: boolean) {
      try {
        const session = await api.call('generate.serve', { checkpoint, on })
        this.models[session.checkpoint] = session
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    async search() {
      try {
        this.history = await api.call('generate.history', { query: this.query.trim() || undefined, limit: HISTORY_LIMIT })
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Shows a past generation (and its side-by-side partner) in the console, token detail included. */
    async open(id: number) {
      const record = await api.call('generate.get', { id })
      const group = record.compareGroup ? this.history.filter((h) => h.compareGroup === record.compareGroup && h.id !== id) : []
      const partners = await Promise.all(group.map((h) => api.call('generate.get', { id: h.id })))
      for (const r of [record, ...partners]) this.live[r.id] = { ...r, tokenInfo: r.tokenInfo ?? [] }
      this.shown = [record, ...partners].sort((a, b) => a.id - b.id).map((r) => r.id)
      this.prompt = record.prompt
    },
    onEvent(e: GenerationEvent) {
      switch (e.type) {
        case 'model':
          this.models[e.session.checkpoint] = e.session
          break
        case 'started':
          this.live[e.record.id] ??= { ...e.record, tokenInfo: [] }
          break
        case 'tokens': {
          const g = this.live[e.id]
          if (!g) return
          g.tokenInfo.push(...e.tokens)
          g.text += e.text
          g.tokens = g.tokenInfo.length
          break
        }
        case 'notice': {
          const g = this.live[e.id]
          if (g) g.message = g.message ? `${g.message} ${e.message}` : e.message
          break
        }
        case 'finished': {
          const g = this.live[e.record.id]
          this.live[e.record.id] = { ...e.record, tokenInfo: g?.tokenInfo ?? [] }
          const i = this.history.findIndex((h) => h.id === e.record.id)
          if (i >= 0) this.history[i] = e.record
          else if (!this.query) this.history.unshift(e.record)
          break
        }
      }
    }
  }
})

/** The last two parts of a path: enough to tell checkpoints apart. */
export function shortPath(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).slice(-2).join('/')
}
