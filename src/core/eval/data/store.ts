// The eval-data cache of the workspace: eval-data/<task>/<file>. A file is fetched once (resumably,
// checked against the harness's SHA-256 where known) and reused; a cached file that later fails to
// parse is reported with its path so it can be deleted and fetched again. Fetches go through the
// address guard: private addresses are refused except the hosts of a Hugging Face base URL or
// mirror the user configured (a local mirror is its own opt-in).
import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { AddressGuard, privateAddressCause } from '../../data/pipeline/address-guard'
import { downloadFile, sha256File } from './download'
import { readParquetRows, type Row } from './parquet'
import { DEFAULT_SOURCES, hfParquetListUrl, resolveUrl, type DataSourceConfig, type HfDataset, type RemoteFile } from './sources'

export class TaskDataUnavailable extends Error {
  constructor(
    readonly task: string,
    message: string
  ) {
    super(`${task}: ${message}`)
  }
}

const ParquetList = z.array(z.string().url())
const Sidecar = z.object({ size: z.number().int().nonnegative(), sha256: z.string() })

export class EvalDataStore {
  readonly sources: DataSourceConfig
  private readonly hfCache = new Map<string, Promise<Row[]>>()
  private readonly fetchImpl: typeof fetch

  constructor(
    readonly root: string,
    sources: Partial<DataSourceConfig> = {},
    /** default: fetch through the address guard, trusting the configured base and mirror hosts */
    fetchImpl?: typeof fetch,
    /** download progress, for the job's progress line */
    private readonly onProgress?: (task: string, file: string, bytes: number, total: number | undefined) => void
  ) {
    this.sources = { ...DEFAULT_SOURCES, ...sources, mirrors: { ...DEFAULT_SOURCES.mirrors, ...sources.mirrors } }
    this.fetchImpl = fetchImpl ?? (guardedFetch(this.sources) as unknown as typeof fetch)
  }

  taskDir(task: string): string {
    return path.join(this.root, task)
  }

  /**
   * The local path of an official file, downloading it first if it is not cached. A sidecar
   * <file>.json records the size and SHA-256 of a completed download; a cached file whose size
   * no longer matches it is fetched again.
   */
  async file(task: string, spec: RemoteFile): Promise<string> {
    const dest = path.join(this.taskDir(task), spec.name)
    const sidecar = `${dest}.json`
    if (fs.existsSync(dest)) {
      const recorded = fs.existsSync(sidecar) ? Sidecar.safeParse(JSON.parse(fs.readFileSync(sidecar, 'utf8'))) : null
      if (!recorded || !recorded.success || recorded.data.size === fs.statSync(dest).size) return dest
      fs.rmSync(dest)
    }
    const url = resolveUrl(spec.url, this.sources)
    try {
      await downloadFile(url, dest, {
        sha256: this.sources.verifyChecksums ? spec.sha256 : undefined,
        fetchImpl: this.fetchImpl,
        onProgress: (bytes, total) => this.onProgress?.(task, spec.name, bytes, total)
      })
    } catch (e) {
      throw new TaskDataUnavailable(task, (e as Error).message)
    }
    fs.writeFileSync(sidecar, JSON.stringify({ url, size: fs.statSync(dest).size, sha256: await sha256File(dest) }))
    return dest
  }

  /** All rows of one split of a Hugging Face dataset, through the Hub's parquet API. */
  hfRows(task: string, ds: HfDataset, split: string): Promise<Row[]> {
    const key = `${task}\u0000${ds.repo}\u0000${ds.config}\u0000${split}`
    let rows = this.hfCache.get(key)
    if (!rows) {
      rows = this.loadHfRows(task, ds, split)
      this.hfCache.set(key, rows)
      rows.catch(() => this.hfCache.delete(key))
    }
    return rows
  }

  private async loadHfRows(task: string, ds: HfDataset, split: string): Promise<Row[]> {
    const dir = path.join(this.taskDir(task), 'hf', ds.repo.replace('/', '__'), ds.config, split)
    const listFile = path.join(dir, 'files.json')
    let urls: string[]
    if (fs.existsSync(listFile)) {
      urls = ParquetList.parse(JSON.parse(fs.readFileSync(listFile, 'utf8')))
    } else {
      const listUrl = hfParquetListUrl(ds, split, this.sources)
      let response: Response
      try {
        response = await this.fetchImpl(listUrl)
      } catch (e) {
        throw new TaskDataUnavailable(task, `could not reach ${listUrl} (${privateAddressCause(e)?.message ?? (e as Error).message}); check the network or the Hugging Face base URL setting.`)
      }
      if (!response.ok)
        throw new TaskDataUnavailable(
          task,
          `${listUrl} answered HTTP ${response.status}: the dataset ${ds.repo} (${ds.config}/${split}) is not served there; check the Hugging Face base URL or mirror.`
        )
      const parsed = ParquetList.safeParse(await response.json().catch(() => null))
      if (!parsed.success || parsed.data.length === 0) throw new TaskDataUnavailable(task, `${listUrl} did not return a list of parquet file URLs.`)
      urls = parsed.data
      fs.mkdirSync(dir, { recursive: true })
      fs.writeFileSync(listFile, JSON.stringify(urls))
    }
    const rows: Row[] = []
    for (const [i, url] of urls.entries()) {
      const dest = path.join(dir, `${String(i).padStart(4, '0')}.parquet`)
      if (!fs.existsSync(dest)) {
        try {
          await downloadFile(resolveUrl(url, this.sources), dest, { fetchImpl: this.fetchImpl })
        } catch (e) {
          throw new TaskDataUnavailable(task, (e as Error).message)
        }
      }
      try {
        rows.push(...(await readParquetRows(dest)))
      } catch (e) {
        throw new TaskDataUnavailable(task, (e as Error).message)
      }
    }
    return rows
  }
}

/** A fetch that refuses private addresses on every hop, except the hosts the user configured as sources. */
export function guardedFetch(sources: DataSourceConfig): AddressGuard['fetchFollowing'] {
  const configured = [sources.huggingfaceBase, ...Object.values(sources.mirrors)]
  const trustedHosts = configured.flatMap((url) => {
    try {
      return [new URL(url).hostname]
    } catch {
      return []
    }
  })
  return new AddressGuard({ trustedHosts }).fetchFollowing
}
