// The names of the files each stage writes in the dataset folder (datasets/<id>/).
export const FILES = {
  /** sources: what was found (URL list files, HTML files, JSON files) and every URL read, in order. */
  sources: 'sources.json',
  rawUrls: 'urls.raw.txt',
  /** urlFilter: the URLs kept (normalised, one per line). */
  urls: 'urls.txt',
  /** Every stage: each item it dropped, with the reason (dropped/<stage>.jsonl). */
  dropped: 'dropped',
  /** download: an append-only cache of fetched pages and one of failures, both keyed by URL. */
  pages: 'raw.jsonl',
  failures: 'download-failures.jsonl',
  /** extract: main text, title and URL of each page. */
  extracted: 'extracted.jsonl',
  /** clean: repaired, filtered documents; dedupe: one document per group, and the report. */
  clean: 'clean.jsonl',
  dedup: 'dedup.jsonl',
  duplicates: 'duplicates.json',
  /** output: the seed's DATA format and the token shards. */
  trainData: 'train_data.json',
  tokens: 'tokens'
} as const

/** A document as the text stages pass it on (one JSON line). */
export interface DocRecord {
  url: string
  title?: string
  text: string
}
