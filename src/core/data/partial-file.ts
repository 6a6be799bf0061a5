// A file written under `<name>.partial` and renamed into place only when complete, so a crash
// never leaves a half-written output under its real name.
import fs from 'node:fs'

export class PartialFile {
  private readonly fd: number

  constructor(readonly file: string) {
    this.fd = fs.openSync(file + '.partial', 'w')
  }

  write(bytes: Uint8Array): void {
    fs.writeSync(this.fd, bytes)
  }

  /** Syncs to disk and renames into place. */
  finish(): void {
    fs.fsyncSync(this.fd)
    fs.closeSync(this.fd)
    fs.renameSync(this.file + '.partial', this.file)
  }

  /** Removes the partial file. */
  abort(): void {
    fs.closeSync(this.fd)
    fs.rmSync(this.file + '.partial', { force: true })
  }
}
