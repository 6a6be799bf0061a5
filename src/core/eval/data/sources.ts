// Where task data comes from, and how a user points it elsewhere: a Hugging Face base URL (for a
// mirror of the Hub's parquet API) and per-origin mirrors for the official direct files.

export interface DataSourceConfig {
  /** Base of the Hugging Face Hub (or a mirror serving the same /api/datasets layout). */
  huggingfaceBase: string
  /** Origin -> replacement base, e.g. {"https://people.eecs.berkeley.edu": "http://mirror/berkeley"}. */
  mirrors: Record<string, string>
  /** Check the harness's published SHA-256 of official files (turn off for a mirror with other files). */
  verifyChecksums: boolean
  /** Hub repository renames, e.g. {"ybisk/piqa": "someone/piqa"} when a dataset moves. */
  hfRepoAliases?: Record<string, string>
}

export const DEFAULT_SOURCES: DataSourceConfig = {
  huggingfaceBase: 'https://huggingface.co',
  mirrors: {},
  verifyChecksums: true
}

/** A file the harness downloads directly (not through Hugging Face). */
export interface RemoteFile {
  url: string
  /** Name under eval-data/<task>/. */
  name: string
  /** SHA-256 the harness's download_file checks, where it gives one. */
  sha256?: string
}

/** A Hugging Face dataset, as its Hub repository and config ("subset"). */
export interface HfDataset {
  repo: string
  config: string
  /** The name the harness used with datasets.load_dataset, for the record. */
  harnessName: string
}

export function resolveUrl(url: string, config: DataSourceConfig): string {
  const parsed = new URL(url)
  const mirror = config.mirrors[parsed.origin]
  if (!mirror) return url
  return mirror.replace(/\/$/, '') + parsed.pathname + parsed.search
}

export function hfParquetListUrl(ds: HfDataset, split: string, config: DataSourceConfig): string {
  const base = config.huggingfaceBase.replace(/\/$/, '')
  const repo = config.hfRepoAliases?.[ds.repo] ?? ds.repo
  return `${base}/api/datasets/${repo}/parquet/${encodeURIComponent(ds.config)}/${encodeURIComponent(split)}`
}
