// The Data wizard's state: the config being edited (as form fields), prepared datasets and the
// one being inspected (polled while its job runs), and the dataset handed to the Train view.
import { defineStore } from 'pinia'
import { describeZodError } from '../../../shared/api'
import { type DatasetDetail, type DatasetSummary, PrepareConfig, type PrepareConfigInput } from '../../../shared/config/prepare'
import type { Job } from '../../../shared/jobs'
import { api } from '../api'
import { useAppStore } from './app'
import { useJobsStore } from './jobs'

const POLL_MS = 600
const DEFAULTS = PrepareConfig.parse({ sources: { urls: ['https://example.org/'] } })

/** The wizard's form: lists as one item per line, the rest as the schema has them. */
export interface PrepareDraft {
  name: string
  urlFiles: string
  urls: string
  htmlDirs: string
  jsonFiles: string
  domainBlacklist: string
  extensionBlacklist: string
  maxShortLength: number
  download: Omit<PrepareConfig['download'], 'contentTypes' | 'userAgent'>
  languages: string
  minTokens: number
  minChars: number
  fixUnicode: boolean
  dedupe: Pick<PrepareConfig['dedupe'], 'exact' | 'near' | 'groupJaccard' | 'candidateJaccard' | 'bands' | 'seeds' | 'shingleChars'>
  output: PrepareConfig['output']
}

export function defaultDraft(): PrepareDraft {
  const d = DEFAULTS
  return {
    name: 'webtext',
    urlFiles: '',
    urls: '',
    htmlDirs: '',
    jsonFiles: '',
    domainBlacklist: d.urlFilter.domainBlacklist.join('\n'),
    extensionBlacklist: d.urlFilter.extensionBlacklist.join('\n'),
    maxShortLength: d.urlFilter.maxShortLength,
    download: {
      concurrency: d.download.concurrency,
      timeoutMs: d.download.timeoutMs,
      maxBytes: d.download.maxBytes,
      retries: d.download.retries,
      backoffMs: d.download.backoffMs,
      maxRedirects: d.download.maxRedirects,
      perHostDelayMs: d.download.perHostDelayMs,
      retryFailed: d.download.retryFailed,
      allowPrivateAddresses: d.download.allowPrivateAddresses
    },
    languages: d.clean.languages.join(', '),
    minTokens: d.clean.minTokens,
    minChars: d.clean.minChars,
    fixUnicode: d.clean.fixUnicode,
    dedupe: {
      exact: d.dedupe.exact,
      near: d.dedupe.near,
      groupJaccard: d.dedupe.groupJaccard,
      candidateJaccard: d.dedupe.candidateJaccard,
      bands: d.dedupe.bands,
      seeds: d.dedupe.seeds,
      shingleChars: d.dedupe.shingleChars
    },
    output: { ...d.output }
  }
}

const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)

export function draftToConfig(d: PrepareDraft): PrepareConfigInput {
  return {
    name: d.name.trim() || undefined,
    sources: { urlFiles: lines(d.urlFiles), urls: lines(d.urls), htmlDirs: lines(d.htmlDirs), jsonFiles: lines(d.jsonFiles) },
    urlFilter: { domainBlacklist: lines(d.domainBlacklist), extensionBlacklist: lines(d.extensionBlacklist), maxShortLength: d.maxShortLength },
    download: { ...d.download },
    clean: { fixUnicode: d.fixUnicode, languages: d.languages.split(/[\s,]+/).filter(Boolean), minTokens: d.minTokens, minChars: d.minChars },
    dedupe: { ...d.dedupe },
    output: { ...d.output }
  }
}

export function configToDraft(c: PrepareConfig): PrepareDraft {
  return {
    ...defaultDraft(),
    name: c.name ?? 'webtext',
    urlFiles: c.sources.urlFiles.join('\n'),
    urls: c.sources.urls.join('\n'),
    htmlDirs: c.sources.htmlDirs.join('\n'),
    jsonFiles: c.sources.jsonFiles.join('\n'),
    domainBlacklist: c.urlFilter.domainBlacklist.join('\n'),
    extensionBlacklist: c.urlFilter.extensionBlacklist.join('\n'),
    maxShortLength: c.urlFilter.maxShortLength,
    download: {
      concurrency: c.download.concurrency,
      timeoutMs: c.download.timeoutMs,
      maxBytes: c.download.maxBytes,
      retries: c.download.retries,
      backoffMs: c.download.backoffMs,
      maxRedirects: c.download.maxRedirects,
      perHostDelayMs: c.download.perHostDelayMs,
      retryFailed: c.download.retryFailed,
      allowPrivateAddresses: c.download.allowPrivateAddresses
    },
    languages: c.clean.languages.join(', '),
    minTokens: c.clean.minTokens,
    minChars: c.clean.minChars,
    fixUnicode: c.clean.fixUnicode,
    dedupe: {
      exact: c.dedupe.exact,
      near: c.dedupe.near,
      groupJaccard: c.dedupe.groupJaccard,
      candidateJaccard: c.dedupe.candidateJaccard,
      bands: c.dedupe.bands,
      seeds: c.dedupe.seeds,
      shingleChars: c.dedupe.shingleChars
    },
    output: { ...c.output }
  }
}

const idOf = (dir: string): string => dir.split(/[\\/]/).filter(Boolean).pop() ?? dir

let timer: ReturnType<typeof setInterval> | null = null

export const usePrepareStore = defineStore('prepare', {
  state: () => ({
    draft: defaultDraft(),
    step: 'sources' as 'sources' | 'filters' | 'run',
    datasets: [] as DatasetSummary[],
    detail: null as DatasetDetail | null,
    jobId: null as number | null,
    error: null as string | null,
    /** The dataset the Train view should offer first. */
    trainDataset: null as { name: string; tokensDir: string } | null
  }),
  getters: {
    /** Problems with the draft, one per field, before anything is sent. */
    problems(state): string[] {
      const parsed = PrepareConfig.safeParse(draftToConfig(state.draft))
      return parsed.success ? [] : describeZodError(parsed.error).split('; ')
    },
    job(state): Job | null {
      return state.jobId === null ? null : (useJobsStore().byId[state.jobId] ?? null)
    }
  },
  actions: {
    async refreshList() {
      try {
        this.datasets = await api.call('prepare.list')
      } catch (err) {
        this.error = (err as Error).message
      }
    },
    /** Loads a dataset; `starting`: its job has just started and may not have written a manifest yet. */
    async select(id: string | null, starting = false) {
      if (id === null) return void (this.detail = null)
      try {
        this.detail = await api.call('prepare.get', { id })
      } catch (err) {
        if (!starting) this.error = (err as Error).message
      }
    },
    /** Starts the pipeline; `datasetDir` reruns (resumes) an existing dataset. */
    async run(datasetDir?: string) {
      this.error = null
      const config = PrepareConfig.safeParse(draftToConfig(this.draft))
      if (!config.success) return void (this.error = describeZodError(config.error))
      const jobs = useJobsStore()
      const job = await jobs.start({ kind: 'prepare', params: { config: config.data, ...(datasetDir ? { datasetDir } : {}) } })
      if (!job) return void (this.error = jobs.error)
      this.jobId = job.id
      this.step = 'run'
      const dir = (job.params as { datasetDir: string }).datasetDir
      this.watch(idOf(dir))
    },
    resume(dataset: DatasetDetail) {
      if (!dataset.manifest) return
      this.draft = configToDraft(dataset.manifest.config)
      return this.run(dataset.dir)
    },
    /** Polls the dataset's manifest while its job is active, and once more after. */
    watch(id: string) {
      if (timer) clearInterval(timer)
      this.detail = null
      const tick = async (): Promise<void> => {
        const state = this.job?.state
        await this.select(id, state === 'running' || state === 'queued')
        if (state && state !== 'running' && state !== 'paused' && state !== 'queued') {
          if (timer) clearInterval(timer)
          timer = null
          await this.select(id)
          await this.refreshList()
        }
      }
      void tick()
      timer = setInterval(() => void tick(), POLL_MS)
    },
    handToTrain(dataset: DatasetSummary) {
      if (!dataset.tokensDir) return
      this.trainDataset = { name: dataset.name, tokensDir: dataset.tokensDir }
      useAppStore().open('train')
    }
  }
})
