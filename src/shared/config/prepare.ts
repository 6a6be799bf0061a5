// The Webtext preparation config: one schema for the Data wizard, `gptw prepare --config FILE`
// (JSON or YAML) and the prepare worker. Defaults follow Megatron's openwebtext tools
// (blacklist_urls, cleanup_dataset, find_duplicates, group_duplicate_urls); every list and
// threshold is editable.
import { z } from 'zod'

/** The pipeline's stages, in the order they run. Each writes its own files in the dataset folder. */
export const PREPARE_STAGES = ['sources', 'urlFilter', 'download', 'extract', 'clean', 'dedupe', 'output'] as const
export type PrepareStage = (typeof PREPARE_STAGES)[number]

export const STAGE_LABELS: Record<PrepareStage, string> = {
  sources: 'Sources',
  urlFilter: 'URL filter',
  download: 'Download',
  extract: 'Extract',
  clean: 'Clean',
  dedupe: 'Deduplicate',
  output: 'Output'
}

/** Megatron's blacklist_urls.py domain list: matched against the registered domain's name (tldextract's `domain`). */
export const DEFAULT_DOMAIN_BLACKLIST: readonly string[] = [
  '500px',
  'aapks',
  'akamaihd',
  'amazon',
  'apple',
  'artifactfire',
  'artstation',
  'awwni',
  'bandcamp',
  'battleforthenet',
  'coinscalendar',
  'dailymotion',
  'deviantart',
  'discord',
  'discordapp',
  'dlapkandroid',
  'dropbox',
  'e621',
  'ebay',
  'edealinfo',
  'erome',
  'eroshare',
  'explosm',
  'facebook',
  'fbcdn',
  'flickr',
  'furaffinity',
  'futhead',
  'gatopardo',
  'gfycat',
  'gifsound',
  'gifsoup',
  'giphy',
  'github',
  'google',
  'gunprime',
  'gyazo',
  'horsefucker',
  'hotdealstar',
  'imagefap',
  'imageshack',
  'imgflip',
  'imgur',
  'instagram',
  'karmadecay',
  'kryptocal',
  'kym-cdn',
  'liveleak',
  'livememe',
  'lmgtfy',
  'magaimg',
  'memegenerator',
  'minorplanetcenter',
  'minus',
  'mobafire',
  'morejpeg',
  'nocookie',
  'pcpartpicker',
  'photobucket',
  'pinimg',
  'pinterest',
  'pixiv',
  'pornhub',
  'prntscr',
  'puu',
  'qkme',
  'quickmeme',
  'radd',
  'redd',
  'reddit',
  'reddit-stream',
  'redditlog',
  'redditmedia',
  'reddituploads',
  'redtube',
  'reupp',
  'reverb',
  'roanoke',
  'rollingstone',
  'sli',
  'soundcloud',
  'soundgasm',
  'spankbang',
  'spotify',
  'strawpoll',
  'streamable',
  'timeanddate',
  'tinypic',
  'touhouradio',
  'tumblr',
  'twimg',
  'twitch',
  'twitter',
  'vid',
  'vimeo',
  'vine',
  'vkaao',
  'vocaroo',
  'voyagefusion',
  'walmart',
  'wciu',
  'wikimedia',
  'wikipedia',
  'xhamster',
  'xkcd',
  'xvideos',
  'youtu',
  'youtube',
  'youtubedoubler',
  'ytimg',
  'zillexplorer'
]

/** Megatron's extension list (images, media, archives, documents, code); ".7z" and ".ai" were fused there by a missing comma. */
export const DEFAULT_EXTENSION_BLACKLIST: readonly string[] = [
  '.3gp',
  '.7z',
  '.ai',
  '.aif',
  '.apk',
  '.app',
  '.avi',
  '.bin',
  '.bmp',
  '.bz2',
  '.css',
  '.csv',
  '.dat',
  '.deb',
  '.dmg',
  '.doc',
  '.docx',
  '.exe',
  '.gif',
  '.gifv',
  '.gz',
  '.iso',
  '.jar',
  '.jpeg',
  '.jpg',
  '.js',
  '.log',
  '.mid',
  '.midi',
  '.mkv',
  '.mov',
  '.mp3',
  '.mp4',
  '.mpeg',
  '.mpg',
  '.ogg',
  '.ogv',
  '.otf',
  '.pdf',
  '.pkg',
  '.png',
  '.pps',
  '.ppt',
  '.pptx',
  '.psd',
  '.py',
  '.qt',
  '.ram',
  '.rar',
  '.sql',
  '.svg',
  '.swf',
  '.tar.gz',
  '.tar',
  '.tgz',
  '.tiff',
  '.ttf',
  '.txt',
  '.wav',
  '.webm',
  '.wma',
  '.wmv',
  '.xls',
  '.xlsx',
  '.xml',
  '.xz',
  '.zip'
]

const PathList = z.array(z.string().trim().min(1, 'a path is empty')).default([])

export const PrepareSources = z
  .strictObject({
    /** URL list files (one URL per line, as OpenWebText ships them) or folders of them (*.txt). */
    urlFiles: PathList,
    /** URLs given inline (the wizard's paste box). */
    urls: z.array(z.string()).default([]),
    /** Folders of saved HTML pages (*.html, *.htm, searched recursively). */
    htmlDirs: PathList,
    /** Existing loose JSON / JSONL files ({"text", "url"} per line): they skip download and extraction. */
    jsonFiles: PathList
  })
  .prefault({})

export const UrlFilterConfig = z
  .strictObject({
    domainBlacklist: z.array(z.string().trim().toLowerCase().min(1)).default([...DEFAULT_DOMAIN_BLACKLIST]),
    extensionBlacklist: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .min(1)
          .transform((e) => (e.startsWith('.') ? e : `.${e}`))
      )
      .default([...DEFAULT_EXTENSION_BLACKLIST]),
    /** URLs this long or shorter are dropped (Megatron: 8). */
    maxShortLength: z.number().int().min(0).max(100).default(8),
    /** Remove utm_* and similar tracking parameters before checking for duplicates. */
    dropTrackingParams: z.boolean().default(true)
  })
  .prefault({})

export const DownloadConfig = z
  .strictObject({
    concurrency: z.number().int().min(1).max(256).default(16),
    /** Whole request, body included. */
    timeoutMs: z.number().int().min(100).max(600_000).default(20_000),
    /** Bodies larger than this are abandoned and recorded as too large. */
    maxBytes: z.number().int().min(1024).max(1e9).default(5_000_000),
    /** Extra tries after a network error, a timeout, 429 or a 5xx. */
    retries: z.number().int().min(0).max(10).default(2),
    /** First retry waits this long; each further one twice as long (plus jitter). */
    backoffMs: z.number().int().min(0).max(60_000).default(1000),
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** Politeness: the least time between two requests to the same host. */
    perHostDelayMs: z.number().int().min(0).max(60_000).default(500),
    contentTypes: z.array(z.string().trim().toLowerCase().min(1)).min(1).default(['text/html', 'application/xhtml+xml']),
    /** Try again URLs that failed for a passing reason (timeout, network, 429, 5xx) in an earlier run. */
    retryFailed: z.boolean().default(false),
    /**
     * Intranet crawls only: fetch loopback, private, link-local and other non-public addresses.
     * Off, such URLs (and redirects to them) are recorded as failed with reason private-address.
     */
    allowPrivateAddresses: z.boolean().default(false),
    userAgent: z.string().min(1).max(300).default('GPT-Workbench/0.1 (webtext preparation)')
  })
  .prefault({})

export const CleanConfig = z
  .strictObject({
    /** ftfy-style repair: mojibake, control characters, NFC normalisation, whitespace. */
    fixUnicode: z.boolean().default(true),
    /** Keep documents detected as one of these ISO 639-1 languages; empty keeps all. */
    languages: z.array(z.string().regex(/^[a-z]{2}$/, 'languages are ISO 639-1 codes such as "en"')).default(['en']),
    /** Drop documents under this many GPT-2 tokens (Megatron: 128). */
    minTokens: z.number().int().min(0).max(1_000_000).default(128),
    /** Optional extra filter (Megatron's cleanup_fix_dataset offers 512). */
    minChars: z.number().int().min(0).max(10_000_000).default(0)
  })
  .prefault({})

export const DedupeConfig = z
  .strictObject({
    /** Drop documents whose normalised text is identical to another's. */
    exact: z.boolean().default(true),
    /** MinHash + LSH near-duplicate removal. */
    near: z.boolean().default(true),
    seeds: z.number().int().min(1).max(1024).default(100),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(1234),
    shingleChars: z.number().int().min(1).max(64).default(5),
    /** LSH bands; seeds / bands rows per band. More bands find more pairs at lower similarity. */
    bands: z.number().int().min(1).max(1024).default(10),
    /** Candidate pairs with Jaccard similarity above this are reported. */
    candidateJaccard: z.number().min(0).max(1).default(0.5),
    /** Documents similar at or above this are grouped; one per group is kept. */
    groupJaccard: z.number().min(0).max(1).default(0.7)
  })
  .prefault({})
  .superRefine((d, ctx) => {
    if (d.seeds % d.bands !== 0) ctx.addIssue({ code: 'custom', path: ['bands'], message: `bands (${d.bands}) must divide seeds (${d.seeds})` })
    if (d.groupJaccard < d.candidateJaccard) {
      ctx.addIssue({ code: 'custom', path: ['groupJaccard'], message: `groupJaccard (${d.groupJaccard}) must be at least candidateJaccard (${d.candidateJaccard})` })
    }
  })

export const OutputConfig = z
  .strictObject({
    shuffleSeed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42),
    /** Share of documents that go to val.bin. */
    valFraction: z.number().min(0).max(0.5).default(0.05),
    /** Write GPT-2 token shards (tokens/train.bin, val.bin, meta.json) beside train_data.json. */
    tokenize: z.boolean().default(true)
  })
  .prefault({})

export const PrepareConfig = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    sources: PrepareSources,
    urlFilter: UrlFilterConfig,
    download: DownloadConfig,
    clean: CleanConfig,
    dedupe: DedupeConfig,
    output: OutputConfig
  })
  .superRefine((c, ctx) => {
    const s = c.sources
    if (!s.urlFiles.length && !s.urls.some((u) => u.trim()) && !s.htmlDirs.length && !s.jsonFiles.length) {
      ctx.addIssue({ code: 'custom', path: ['sources'], message: 'give at least one source: urlFiles, urls, htmlDirs or jsonFiles' })
    }
  })
export type PrepareConfig = z.output<typeof PrepareConfig>
export type PrepareConfigInput = z.input<typeof PrepareConfig>

/** Parameters of the `prepare` job: the config and the dataset folder (a rerun on the same folder resumes). */
export const PrepareParams = z.strictObject({
  config: PrepareConfig,
  datasetDir: z.string().min(1).optional()
})
export type PrepareParams = z.infer<typeof PrepareParams>

// ---- What the pipeline records in the dataset folder (manifest.json), read by the wizard. ----

export type StageStatus = 'pending' | 'running' | 'done'

export interface StageLive {
  done: number
  total: number
  unit: string
  bytes: number
  /** Bytes per second over the stage so far. */
  rate: number
  /** Seconds left at the current pace; null when unknown. */
  etaSeconds: number | null
}

export interface StageRecord {
  status: StageStatus
  /** A hash of the settings and inputs the stage's output depends on; a change reruns it. */
  fingerprint: string | null
  input: number
  kept: number
  /** Dropped items by reason, e.g. { "blacklisted-domain": 3, "timeout": 1 }. */
  dropped: Record<string, number>
  /** Extra counts worth showing (e.g. { "mojibake-fixed": 4, "cached": 120 }). */
  notes: Record<string, number>
  bytesIn: number
  bytesOut: number
  seconds: number
  startedAt: number | null
  endedAt: number | null
  outputs: string[]
  live: StageLive | null
}

export interface PrepareResult {
  trainData: string
  tokensDir: string | null
  documents: number
  tokens: Record<string, number>
}

export interface DatasetManifest {
  format: 'gptw-dataset-v1'
  name: string
  createdAt: number
  updatedAt: number
  config: PrepareConfig
  stages: Record<PrepareStage, StageRecord>
  result: PrepareResult | null
}

/** A document as shown in the wizard's previews (texts are excerpts). */
export interface SampleDoc {
  url: string
  title?: string
  reason?: string
  text: string
  /** For cleaning: the text before repair, when repair changed it. */
  before?: string
}

export interface StageSamples {
  kept: SampleDoc[]
  dropped: SampleDoc[]
}

export interface DuplicateGroup {
  kept: SampleDoc
  removed: (SampleDoc & { jaccard: number })[]
}

export interface DuplicateReport {
  documents: number
  exactRemoved: number
  candidatePairs: number
  /** Pairs whose Jaccard similarity is above candidateJaccard. */
  similarPairs: number
  groups: number
  nearRemoved: number
  examples: DuplicateGroup[]
}

export interface DatasetSummary {
  id: string
  name: string
  dir: string
  createdAt: number
  updatedAt: number
  /** done: every stage finished; incomplete: a run stopped part-way (run it again to resume). */
  state: 'done' | 'incomplete'
  documents: number | null
  tokensDir: string | null
  tokens: Record<string, number>
}

export interface DatasetDetail extends DatasetSummary {
  manifest: DatasetManifest | null
  samples: Partial<Record<PrepareStage, StageSamples>>
  duplicates: DuplicateReport | null
}
