// Crash-safe file writes: the content goes to a temporary name beside the target, is flushed to
// disk, and only then renamed over it, so readers see the old file or the new one, never half.
import fs from 'node:fs'
import path from 'node:path'

/** Writes `file` through `write(fd)` on a temporary file, fsyncs, and renames it into place. */
export function writeFileAtomic(file: string, write: (fd: number) => void): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`)
  const fd = fs.openSync(tmp, 'wx')
  try {
    write(fd)
    fs.fsyncSync(fd)
  } catch (err) {
    fs.closeSync(fd)
    fs.rmSync(tmp, { force: true })
    throw err
  }
  fs.closeSync(fd)
  try {
    fs.renameSync(tmp, file)
  } catch (err) {
    fs.rmSync(tmp, { force: true })
    throw err
  }
  syncDirectory(path.dirname(file))
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
