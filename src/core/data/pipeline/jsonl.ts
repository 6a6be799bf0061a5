// JSON-lines files for the pipeline's stage outputs: streaming reads that know each line's byte
// offset (so later stages can seek back to a document), atomic writers (a crash never leaves a
// file that looks complete), an append-only log that survives a crash mid-line.
import fs from 'node:fs'
import { DurableWriter } from '../../durable-file'

export interface JsonlLine<T> {
  value: T
  /** Byte offset of the line in the file and its length without the newline. */
  offset: number
  length: number
  /** Bytes of the file read so far (for progress). */
  bytesRead: number
  /** 1-based line number. */
  lineNo: number
}

/**
 * Streams a JSON-lines file. Lines that are not valid JSON are passed to `onBad` (with their
 * 1-based number) and skipped; blank lines are skipped silently.
 */
export async function* readJsonl<T>(file: string, onBad?: (lineNo: number, line: string) => void): AsyncGenerator<JsonlLine<T>> {
  let lineNo = 0
  for await (const { line, offset, bytesRead } of readLines(file)) {
    lineNo++
    if (!line.trim()) continue
    let value: T
    try {
      value = JSON.parse(line) as T
    } catch {
      onBad?.(lineNo, line)
      continue
    }
    yield { value, offset, length: Buffer.byteLength(line), bytesRead, lineNo }
  }
}

/** Streams a file's lines (UTF-8, "\n" or "\r\n") with each line's byte offset. */
export async function* readLines(file: string): AsyncGenerator<{ line: string; offset: number; bytesRead: number }> {
  const stream = fs.createReadStream(file, { highWaterMark: 1 << 20 })
  let pending: Buffer[] = []
  let pendingBytes = 0
  let lineStart = 0
  let bytesRead = 0
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytesRead += chunk.length
    let from = 0
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      const piece = chunk.subarray(from, nl)
      const bytes = pendingBytes ? Buffer.concat([...pending, piece]) : piece
      pending = []
      pendingBytes = 0
      const text = bytes.toString('utf8')
      yield { line: text.endsWith('\r') ? text.slice(0, -1) : text, offset: lineStart, bytesRead }
      lineStart += bytes.length + 1
      from = nl + 1
    }
    if (from < chunk.length) {
      pending.push(chunk.subarray(from))
      pendingBytes += chunk.length - from
    }
  }
  if (pendingBytes) yield { line: Buffer.concat(pending).toString('utf8'), offset: lineStart, bytesRead }
}

/** Reads one JSON line back by its offset and length. */
export function readJsonAt<T>(fd: number, offset: number, length: number): T {
  const buffer = Buffer.alloc(length)
  fs.readSync(fd, buffer, 0, length, offset)
  return JSON.parse(buffer.toString('utf8')) as T
}

/** Writes a JSON-lines file line by line; it appears under its name, whole, on `finish()`. */
export class AtomicJsonlWriter {
  private readonly out: DurableWriter
  private chunks: string[] = []
  private chunkChars = 0
  lines = 0
  bytes = 0

  constructor(readonly file: string) {
    this.out = new DurableWriter(file)
  }

  write(value: unknown): void {
    const line = JSON.stringify(value) + '\n'
    this.chunks.push(line)
    this.chunkChars += line.length
    this.lines++
    if (this.chunkChars > 1 << 20) this.flush()
  }

  finish(): void {
    this.flush()
    this.out.commit()
  }

  abort(): void {
    this.out.abort()
  }

  private flush(): void {
    if (!this.chunks.length) return
    const buffer = Buffer.from(this.chunks.join(''))
    this.out.write(buffer)
    this.bytes += buffer.length
    this.chunks = []
    this.chunkChars = 0
  }
}

/**
 * An append-only JSON-lines log that outlives crashes: on open, a partial last line (a write cut
 * short by a kill) is cut off, so every line in the file is whole.
 */
export class AppendLog {
  private readonly fd: number

  constructor(readonly file: string) {
    truncatePartialTail(file)
    this.fd = fs.openSync(file, 'a')
  }

  append(value: unknown): void {
    fs.writeSync(this.fd, JSON.stringify(value) + '\n')
  }

  close(): void {
    fs.fsyncSync(this.fd)
    fs.closeSync(this.fd)
  }
}

/** Cuts a file back to its last newline (nothing if it ends with one or does not exist). */
export function truncatePartialTail(file: string): void {
  if (!fs.existsSync(file)) return
  const size = fs.statSync(file).size
  if (size === 0) return
  const fd = fs.openSync(file, 'r+')
  try {
    const window = Buffer.alloc(64 * 1024)
    let end = size
    while (end > 0) {
      const start = Math.max(0, end - window.length)
      const n = fs.readSync(fd, window, 0, end - start, start)
      const nl = window.subarray(0, n).lastIndexOf(0x0a)
      if (nl !== -1) {
        const keep = start + nl + 1
        if (keep !== size) fs.ftruncateSync(fd, keep)
        return
      }
      end = start
    }
    fs.ftruncateSync(fd, 0)
  } finally {
    fs.closeSync(fd)
  }
}
