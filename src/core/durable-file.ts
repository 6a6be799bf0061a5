// Durable, atomic writes: the one way files are written in place. Content goes to a hidden temp
// name beside the target, the file is fsynced, renamed over the target, and the directory is
// fsynced, so after a crash readers see the old file or the new one whole, never half, and a
// finished write survives power loss. Whole files (writeFileAtomic, writeJsonAtomic), streams
// that appear only on commit (DurableWriter), a file already written elsewhere (commitFile, for
// resumable downloads) and whole folders (createTempDirectory + commitDirectory).
import fs from 'node:fs'
import path from 'node:path'

/** What writeFileAtomic writes: text (UTF-8), bytes, or a callback that writes to the open fd. */
export type FileContent = string | Uint8Array | ((fd: number) => void)

/**
 * The temp name for `file`: hidden, in the same folder (rename must not cross file systems),
 * unique per process and call. Never ends in the target's extension, so a leftover from a crash
 * is not mistaken for the file by anything that lists `*.json` or opens the real name.
 */
export function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`)
}

/** Writes `file` whole through a temp file: fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, content: FileContent): void {
  const out = new DurableWriter(file, { sweep: false })
  try {
    if (typeof content === 'function') content(out.fd)
    else out.write(content)
  } catch (err) {
    out.abort()
    throw err
  }
  out.commit()
}

/** Writes `value` as pretty-printed JSON with a final newline, atomically and durably. */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n')
}

/**
 * A file written as a stream that becomes visible under its name only on commit(); abort() (or
 * an error before commit) leaves neither the file nor the temp. Opening one removes temps of the
 * same target left by processes that no longer run (a crash mid-write), so reruns do not pile
 * them up.
 */
export class DurableWriter {
  readonly temp: string
  /** Bytes written so far. */
  bytes = 0
  private open: number | null

  constructor(
    readonly file: string,
    options: { sweep?: boolean } = {}
  ) {
    if (options.sweep !== false) removeStaleTemps(file)
    this.temp = tempName(file)
    this.open = fs.openSync(this.temp, 'wx')
  }

  /** The open temp file's descriptor (for writers that write themselves, e.g. safetensors). */
  get fd(): number {
    if (this.open === null) throw new Error(`${this.file}: the write was already committed or aborted.`)
    return this.open
  }

  write(data: Uint8Array | string): void {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data
    writeAll(this.fd, bytes)
    this.bytes += bytes.length
  }

  /** Flushes to disk and renames into place; the file is complete and durable when this returns. */
  commit(): void {
    const fd = this.fd
    try {
      fs.fsyncSync(fd)
    } catch (err) {
      this.abort()
      throw err
    }
    fs.closeSync(fd)
    this.open = null
    try {
      commitRename(this.temp, this.file)
    } catch (err) {
      fs.rmSync(this.temp, { force: true })
      throw err
    }
  }

  /** Drops what was written; safe to call after commit or twice. */
  abort(): void {
    if (this.open === null) return
    fs.closeSync(this.open)
    this.open = null
    fs.rmSync(this.temp, { force: true })
  }
}

/**
 * Moves a fully written `temp` onto `file` durably (fsync, rename, directory fsync). For files
 * that must keep a known temp name between runs, as a download resumed from `<file>.part`.
 */
export function commitFile(temp: string, file: string): void {
  const fd = fs.openSync(temp, 'r+')
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
  commitRename(temp, file)
}

/** A new empty hidden folder beside `dir` to build its contents in before commitDirectory. */
export function createTempDirectory(dir: string): string {
  fs.mkdirSync(path.dirname(dir), { recursive: true })
  const tmp = tempName(dir)
  fs.mkdirSync(tmp)
  return tmp
}

/**
 * Renames the finished folder `tmp` onto `dir`, moving an existing `dir` aside first (a rename
 * cannot replace a non-empty folder) and deleting it after, so `dir` is always the old folder
 * or the new one whole. The files inside must already be durable (written with writeFileAtomic
 * or DurableWriter).
 */
export function commitDirectory(tmp: string, dir: string): void {
  syncDirectory(tmp)
  let old: string | null = null
  if (fs.existsSync(dir)) {
    old = path.join(path.dirname(dir), `.${path.basename(dir)}.old-${process.pid}-${Math.random().toString(36).slice(2, 10)}`)
    fs.renameSync(dir, old)
  }
  fs.renameSync(tmp, dir)
  syncDirectory(path.dirname(dir))
  if (old) fs.rmSync(old, { recursive: true, force: true })
}

/** Writes all of `bytes` at the file's current position (writeSync may write less than asked). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0
  while (done < bytes.length) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, 1 << 30))
}

/** Makes a rename durable on Linux; a no-op where directories cannot be opened (Windows). */
export function syncDirectory(dir: string): void {
  let fd: number | undefined
  try {
    fd = fs.openSync(dir, 'r')
    fs.fsyncSync(fd)
  } catch {
    // Not supported on this platform: the rename is still atomic, only its durability is weaker.
  } finally {
    if (fd !== undefined) fs.closeSync(fd)
  }
}

/** Removes temps of `file` whose writing process is gone (a crash); live writers' temps stay. */
export function removeStaleTemps(file: string): void {
  const dir = path.dirname(file)
  const prefix = `.${path.basename(file)}.tmp-`
  let names: string[]
  try {
    names = fs.readdirSync(dir)
  } catch {
    return
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue
    const pid = Number(/^(\d+)-[a-z0-9]+$/.exec(name.slice(prefix.length))?.[1])
    if (Number.isInteger(pid) && !processRuns(pid)) fs.rmSync(path.join(dir, name), { force: true })
  }
}

function commitRename(temp: string, file: string): void {
  fs.renameSync(temp, file)
  syncDirectory(path.dirname(file))
}

export function processRuns(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: it runs under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
