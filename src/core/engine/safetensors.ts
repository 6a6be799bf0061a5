// The safetensors file format (Hugging Face): an 8-byte little-endian header length N, N bytes of
// JSON ({name: {dtype, shape, data_offsets}}, optional "__metadata__" of strings), then the raw
// little-endian tensor bytes, packed back to back. Reads F32, F16 and BF16 (as Float32Array, one
// tensor at a time, so multi-GB files never sit in one buffer); writes F32, atomically.
// Every structural fault is reported with the file's path and what is wrong.
import fs from 'node:fs'
import os from 'node:os'
import { z } from 'zod'
import { writeAll, writeFileAtomic } from '../durable-file'

/** Bytes per element of each dtype the format defines (so headers of any file can be checked). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  U16: 2,
  I16: 2,
  F16: 2,
  BF16: 2,
  U32: 4,
  I32: 4,
  F32: 4,
  U64: 8,
  I64: 8,
  F64: 8
}
const READABLE = ['F32', 'F16', 'BF16'] as const

/** The reference implementation's cap; a larger header means a corrupt or foreign file. */
const MAX_HEADER_BYTES = 100_000_000

export interface HostTensor {
  shape: number[]
  data: Float32Array
}

export interface TensorInfo {
  dtype: string
  shape: number[]
  /** Absolute byte range in the file. */
  begin: number
  end: number
}

const TensorHeader = z.strictObject({
  dtype: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  data_offsets: z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])
})
const Metadata = z.record(z.string(), z.string())

if (os.endianness() !== 'LE') throw new Error('safetensors I/O assumes a little-endian CPU; this one is big-endian.')

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

/** An open safetensors file with a validated header; tensors are read on demand. */
export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private fd: number | null,
    readonly tensors: ReadonlyMap<string, TensorInfo>,
    readonly metadata: Readonly<Record<string, string>>
  ) {}

  static open(file: string): SafetensorsFile {
    let fd: number
    try {
      fd = fs.openSync(file, 'r')
    } catch (err) {
      throw new Error(`${file}: cannot open the safetensors file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}).`, { cause: err })
    }
    try {
      const { tensors, metadata } = parseHeader(file, fd)
      return new SafetensorsFile(file, fd, tensors, metadata)
    } catch (err) {
      fs.closeSync(fd)
      throw err
    }
  }

  names(): string[] {
    return [...this.tensors.keys()]
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name)
    if (!t) throw new Error(`${this.path}: no tensor named "${name}".`)
    return t
  }

  /** The tensor as float32 (F16 and BF16 are widened exactly). */
  read(name: string): HostTensor {
    const t = this.info(name)
    if (this.fd === null) throw new Error(`${this.path}: the file is closed.`)
    const n = elementCount(t.shape)
    const bytes = (count: number, view: Uint8Array): void => readExactly(this.path, this.fd!, view, t.begin, count)
    switch (t.dtype) {
      case 'F32': {
        const data = new Float32Array(n)
        bytes(t.end - t.begin, new Uint8Array(data.buffer))
        return { shape: [...t.shape], data }
      }
      case 'F16':
      case 'BF16': {
        const half = new Uint16Array(n)
        bytes(t.end - t.begin, new Uint8Array(half.buffer))
        return { shape: [...t.shape], data: t.dtype === 'F16' ? f16ToF32(half) : bf16ToF32(half) }
      }
      default:
        throw new Error(`${this.path}: tensor "${name}" has dtype ${t.dtype}; only ${READABLE.join(', ')} tensors can be read.`)
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd)
    this.fd = null
  }
}

/** Reads every tensor (F32/F16/BF16) of a file; convenient for small files. */
export function readSafetensors(file: string): { tensors: Map<string, HostTensor>; metadata: Record<string, string> } {
  const f = SafetensorsFile.open(file)
  try {
    return { tensors: new Map(f.names().map((n) => [n, f.read(n)])), metadata: { ...f.metadata } }
  } finally {
    f.close()
  }
}

/**
 * Writes float32 tensors (in the given order) and optional string metadata to `file`, atomically.
 * The header is padded with spaces so the data starts 8-byte aligned, as the reference writer does.
 */
export function writeSafetensors(file: string, tensors: Iterable<[string, HostTensor]>, metadata?: Record<string, string>): void {
  const entries = [...tensors]
  const header: Record<string, unknown> = {}
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new Error(`${file}: metadata "${k}" must be a string (safetensors metadata holds strings only).`)
    }
    header.__metadata__ = metadata
  }
  let offset = 0
  for (const [name, t] of entries) {
    if (!name || name === '__metadata__') throw new Error(`${file}: "${name}" is not a valid tensor name.`)
    if (name in header) throw new Error(`${file}: tensor "${name}" is listed twice.`)
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`${file}: tensor "${name}" has an invalid shape [${t.shape.join(', ')}].`)
    const n = elementCount(t.shape)
    if (t.data.length !== n) throw new Error(`${file}: tensor "${name}" has ${t.data.length} values but shape [${t.shape.join(', ')}] needs ${n}.`)
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * n] }
    offset += 4 * n
  }
  let json = JSON.stringify(header)
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8)
  const head = Buffer.alloc(8 + Buffer.byteLength(json))
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)), 0)
  head.write(json, 8, 'utf8')
  writeFileAtomic(file, (fd) => {
    writeAll(fd, head)
    for (const [, t] of entries) writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))
  })
}

function parseHeader(file: string, fd: number): { tensors: Map<string, TensorInfo>; metadata: Record<string, string> } {
  const size = fs.fstatSync(fd).size
  const fault = (what: string): Error => new Error(`${file}: not a valid safetensors file: ${what}. The file is truncated or corrupt: save or download it again.`)
  if (size < 8) throw fault(`it is ${size} bytes long, shorter than the 8-byte header length`)
  const lenBytes = Buffer.alloc(8)
  readExactly(file, fd, lenBytes, 0, 8)
  const headerLen = Number(lenBytes.readBigUInt64LE(0))
  if (headerLen < 2 || headerLen > MAX_HEADER_BYTES) throw fault(`the header length field says ${headerLen} bytes`)
  if (8 + headerLen > size) throw fault(`the header needs ${headerLen} bytes but only ${size - 8} follow the length field`)
  const headerBytes = Buffer.alloc(headerLen)
  readExactly(file, fd, headerBytes, 8, headerLen)
  let raw: unknown
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes))
  } catch (err) {
    throw fault(`the header is not UTF-8 JSON (${(err as Error).message})`)
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fault('the header is not a JSON object')
  const dataStart = 8 + headerLen
  const dataLen = size - dataStart
  let metadata: Record<string, string> = {}
  const tensors = new Map<string, TensorInfo>()
  for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
    if (name === '__metadata__') {
      const m = Metadata.safeParse(value)
      if (!m.success) throw fault('"__metadata__" must map names to strings')
      metadata = m.data
      continue
    }
    const h = TensorHeader.safeParse(value)
    if (!h.success) throw fault(`the entry for tensor "${name}" is malformed (${h.error.issues[0].message} at ${h.error.issues[0].path.join('.') || 'top'})`)
    const {
      dtype,
      shape,
      data_offsets: [begin, end]
    } = h.data
    const width = DTYPE_BYTES[dtype]
    if (width === undefined) throw fault(`tensor "${name}" has unknown dtype "${dtype}"`)
    if (end < begin) throw fault(`tensor "${name}" ends (${end}) before it begins (${begin})`)
    if (end - begin !== elementCount(shape) * width) {
      throw fault(`tensor "${name}" ([${shape.join(', ')}] ${dtype}) needs ${elementCount(shape) * width} bytes but its offsets span ${end - begin}`)
    }
    tensors.set(name, { dtype, shape, begin: dataStart + begin, end: dataStart + end })
  }
  // Tensors must tile the data region exactly: no gaps, no overlaps, nothing missing at the end.
  const sorted = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end)
  let expected = dataStart
  for (const [name, t] of sorted) {
    if (t.begin !== expected) throw fault(`tensor "${name}" starts at data offset ${t.begin - dataStart}, expected ${expected - dataStart} (gap or overlap)`)
    expected = t.end
  }
  if (expected - dataStart > dataLen) throw fault(`the tensors need ${expected - dataStart} data bytes but the file holds ${dataLen}`)
  if (expected - dataStart < dataLen) throw fault(`${dataLen - (expected - dataStart)} bytes after the last tensor belong to none`)
  return { tensors, metadata }
}

function readExactly(file: string, fd: number, into: Uint8Array, position: number, length: number): void {
  let done = 0
  while (done < length) {
    const n = fs.readSync(fd, into, done, Math.min(length - done, 1 << 30), position + done)
    if (n === 0) throw new Error(`${file}: unexpected end of file at byte ${position + done} (the file is truncated).`)
    done += n
  }
}

let f16Table: Float32Array | null = null

/** IEEE half to float via a 65,536-entry table (exact, and fast for multi-GB checkpoints). */
export function f16ToF32(half: Uint16Array): Float32Array {
  if (!f16Table) {
    f16Table = new Float32Array(65536)
    for (let h = 0; h < 65536; h++) f16Table[h] = decodeHalf(h)
  }
  const out = new Float32Array(half.length)
  for (let i = 0; i < half.length; i++) out[i] = f16Table[half[i]]
  return out
}

function decodeHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1
  const exp = (h >> 10) & 0x1f
  const frac = h & 0x3ff
  if (exp === 0) return sign * frac * 2 ** -24
  if (exp === 31) return frac ? NaN : sign * Infinity
  return sign * (1 + frac / 1024) * 2 ** (exp - 15)
}

/** bfloat16 is the top half of a float32: shift it back into place. */
export function bf16ToF32(half: Uint16Array): Float32Array {
  const bits = new Uint32Array(half.length)
  for (let i = 0; i < half.length; i++) bits[i] = half[i] << 16
  return new Float32Array(bits.buffer)
}
