// The safetensors reader and writer: byte layout, round trips, files written by PyTorch
// (tools/torch_reference.py, an independent implementation), F16/BF16 widening, crash-safe
// writes, and a clear error for each way a file can be broken.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { writeFileAtomic } from '../src/core/durable-file'
import { SafetensorsFile, bf16ToF32, f16ToF32, readSafetensors, writeSafetensors } from '../src/core/engine/safetensors'
import { ROOT, tempDir } from './helpers'

const GOLDENS = path.join(ROOT, 'test', 'goldens')

function t(shape: number[], fill: (i: number) => number): { shape: number[]; data: Float32Array } {
  const n = shape.reduce((a, b) => a * b, 1)
  return { shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) }
}

/** A file with a hand-made header and `dataBytes` bytes of data, for the malformed cases. */
function craft(file: string, header: unknown, dataBytes: number, headerLength?: number): string {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header))
  const len = Buffer.alloc(8)
  len.writeBigUInt64LE(BigInt(headerLength ?? json.length))
  fs.writeFileSync(file, Buffer.concat([len, json, Buffer.alloc(dataBytes)]))
  return file
}

describe('safetensors', () => {
  it('writes the documented layout and reads it back exactly', () => {
    const dir = tempDir()
    const file = path.join(dir, 'a.safetensors')
    const tensors = new Map([
      ['w', t([3, 5], (i) => Math.sin(i) * 1e3)],
      ['scalar', t([], () => -0.5)],
      ['empty', t([0, 4], () => 0)],
      ['b', t([7], (i) => (i === 3 ? NaN : i === 4 ? -0 : 1 / (i + 1)))]
    ])
    writeSafetensors(file, tensors, { format: 'pt', note: 'ünïcode' })

    const bytes = fs.readFileSync(file)
    const n = Number(bytes.readBigUInt64LE(0))
    expect((8 + n) % 8).toBe(0) // data 8-byte aligned, as the reference writer pads it
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'))
    expect(header.__metadata__).toEqual({ format: 'pt', note: 'ünïcode' })
    expect(header.w).toEqual({ dtype: 'F32', shape: [3, 5], data_offsets: [0, 60] })
    expect(header.scalar.data_offsets).toEqual([60, 64])
    expect(header.empty.data_offsets).toEqual([64, 64])
    expect(header.b.data_offsets).toEqual([64, 92])
    expect(bytes.length).toBe(8 + n + 92)
    expect(bytes.readFloatLE(8 + n + 4)).toBe(Math.fround(Math.sin(1) * 1e3))

    const back = readSafetensors(file)
    expect(back.metadata).toEqual({ format: 'pt', note: 'ünïcode' })
    expect([...back.tensors.keys()]).toEqual(['w', 'scalar', 'empty', 'b'])
    for (const [name, orig] of tensors) {
      const got = back.tensors.get(name)!
      expect(got.shape).toEqual(orig.shape)
      expect([...got.data].map((x) => (Object.is(x, -0) ? '-0' : x))).toEqual([...orig.data].map((x) => (Object.is(x, -0) ? '-0' : x)))
    }
    expect(fs.readdirSync(dir)).toEqual(['a.safetensors'])
  })

  it('reads files PyTorch wrote, widening F16 and BF16 exactly (subnormals, infinities, NaN, signed zero)', () => {
    const f = readSafetensors(path.join(GOLDENS, 'dtypes.safetensors'))
    const same = (a: Float32Array, b: Float32Array): void => {
      expect(a.length).toBe(b.length)
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`element ${i}: ${a[i]} != ${b[i]}`)
    }
    const f16 = f.tensors.get('f16')!
    const bf16 = f.tensors.get('bf16')!
    expect(bf16.shape).toEqual([2, 39])
    same(f16.data, f.tensors.get('f16_as_f32')!.data)
    same(bf16.data, f.tensors.get('bf16_as_f32')!.data)
    // The fixture holds the edge cases the widening must get right, so this is not vacuous.
    expect(f16.data.some((x) => x !== 0 && Math.abs(x) < 2 ** -14)).toBe(true)
    expect([...f16.data].filter((x) => !Number.isFinite(x)).length).toBeGreaterThanOrEqual(3)
  })

  it('widens every F16 bit pattern like the reference formula and BF16 by bit shift', () => {
    const all = new Uint16Array(65536).map((_, i) => i)
    const f = f16ToF32(all)
    expect(f[0x3c00]).toBe(1)
    expect(f[0xc000]).toBe(-2)
    expect(f[0x7bff]).toBe(65504)
    expect(f[0x0001]).toBe(2 ** -24)
    expect(Object.is(f[0x8000], -0)).toBe(true)
    expect(f[0x7c00]).toBe(Infinity)
    expect(Number.isNaN(f[0x7e00])).toBe(true)
    const b = bf16ToF32(Uint16Array.of(0x3f80, 0xc020, 0x7f80, 0x0001))
    expect([...b]).toEqual([1, -2.5, Infinity, Math.fround(2 ** -133)])
  })

  it('refuses to read integer tensors as floats, naming the tensor', () => {
    const file = craft(path.join(tempDir(), 'ints.safetensors'), { ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] } }, 16)
    const f = SafetensorsFile.open(file)
    expect(f.info('ids').dtype).toBe('I64')
    expect(() => f.read('ids')).toThrow(/ints\.safetensors: tensor "ids" has dtype I64; only F32, F16, BF16/)
    expect(() => f.read('nope')).toThrow(/no tensor named "nope"/)
    f.close()
  })

  it('names the file and the fault for each kind of broken file', () => {
    const dir = tempDir()
    const good = path.join(dir, 'good.safetensors')
    writeSafetensors(good, new Map([['x', t([4, 4], (i) => i)]]))
    const whole = fs.readFileSync(good)
    const cut = path.join(dir, 'cut.safetensors')
    fs.writeFileSync(cut, whole.subarray(0, whole.length - 5))
    const headerOnly = path.join(dir, 'headcut.safetensors')
    fs.writeFileSync(headerOnly, whole.subarray(0, 20))
    const tiny = path.join(dir, 'tiny.safetensors')
    fs.writeFileSync(tiny, Buffer.from([1, 2, 3]))
    const long = path.join(dir, 'long.safetensors')
    fs.writeFileSync(long, Buffer.concat([whole, Buffer.alloc(4)]))
    const cases: [string, RegExp][] = [
      [cut, /cut\.safetensors: not a valid safetensors file: the tensors need 64 data bytes but the file holds 59\. The file is truncated or corrupt/],
      [headerOnly, /headcut\.safetensors: .*the header needs \d+ bytes but only 12 follow/],
      [tiny, /tiny\.safetensors: .*3 bytes long/],
      [long, /long\.safetensors: .*4 bytes after the last tensor belong to none/],
      [craft(path.join(dir, 'huge.safetensors'), '{}', 0, 2 ** 40), /huge\.safetensors: .*header length field says 1099511627776/],
      [craft(path.join(dir, 'json.safetensors'), '{"x": {', 0), /json\.safetensors: .*not UTF-8 JSON/],
      [craft(path.join(dir, 'array.safetensors'), '[1, 2]', 0), /array\.safetensors: .*not a JSON object/],
      [craft(path.join(dir, 'dtype.safetensors'), { x: { dtype: 'F17', shape: [1], data_offsets: [0, 4] } }, 4), /dtype\.safetensors: .*unknown dtype "F17"/],
      [craft(path.join(dir, 'size.safetensors'), { x: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 12] } }, 12), /size\.safetensors: .*needs 16 bytes but its offsets span 12/],
      [
        craft(path.join(dir, 'gap.safetensors'), { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12),
        /gap\.safetensors: .*"b" starts at data offset 8, expected 4/
      ],
      [craft(path.join(dir, 'field.safetensors'), { a: { dtype: 'F32', shape: [1] } }, 4), /field\.safetensors: .*entry for tensor "a" is malformed/],
      [craft(path.join(dir, 'meta.safetensors'), { __metadata__: { n: 1 } }, 0), /meta\.safetensors: .*"__metadata__" must map names to strings/],
      [path.join(dir, 'missing.safetensors'), /missing\.safetensors: cannot open the safetensors file \(ENOENT\)/]
    ]
    for (const [file, message] of cases) expect(() => SafetensorsFile.open(file), file).toThrow(message)
  })

  it('rejects tensors whose data does not fit their shape, before touching the target', () => {
    const dir = tempDir()
    const file = path.join(dir, 'm.safetensors')
    writeSafetensors(file, new Map([['x', t([2], () => 1)]]))
    const before = fs.readFileSync(file)
    expect(() => writeSafetensors(file, new Map([['x', { shape: [2, 2], data: new Float32Array(3) }]]))).toThrow(/m\.safetensors: tensor "x" has 3 values but shape \[2, 2\] needs 4/)
    expect(() => writeSafetensors(file, [['__metadata__', t([1], () => 0)]])).toThrow(/not a valid tensor name/)
    expect(() =>
      writeSafetensors(file, [
        ['a', t([1], () => 0)],
        ['a', t([1], () => 0)]
      ])
    ).toThrow(/"a" is listed twice/)
    expect(fs.readFileSync(file).equals(before)).toBe(true)
  })

  it('leaves the old file whole and no temporary behind when a write fails midway', () => {
    const dir = tempDir()
    const file = path.join(dir, 'state.bin')
    fs.writeFileSync(file, 'old contents')
    expect(() =>
      writeFileAtomic(file, (fd) => {
        fs.writeSync(fd, 'half of the new')
        throw new Error('disk full')
      })
    ).toThrow('disk full')
    expect(fs.readFileSync(file, 'utf8')).toBe('old contents')
    expect(fs.readdirSync(dir)).toEqual(['state.bin'])
    writeFileAtomic(file, (fd) => fs.writeSync(fd, 'new contents'))
    expect(fs.readFileSync(file, 'utf8')).toBe('new contents')
    expect(fs.readdirSync(dir)).toEqual(['state.bin'])
  })
})
