// The one durable-write module: whole files, streams visible only on commit, committed downloads
// and folders; what an aborted write or a crashed writer leaves behind (nothing a reader takes
// for the file).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DurableWriter, commitDirectory, commitFile, createTempDirectory, tempName, writeFileAtomic, writeJsonAtomic } from '../src/core/durable-file'
import { SavedConfigs } from '../src/main/services/saved-configs'
import { tempDir } from './helpers'

/** The pid of a process that has exited, as a crashed writer's would be. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

describe('durable files', () => {
  it('writes text, bytes and JSON whole, replacing the old file, with no temp left', () => {
    const dir = tempDir()
    const file = path.join(dir, 'a.json')
    writeFileAtomic(file, 'first\n')
    expect(fs.readFileSync(file, 'utf8')).toBe('first\n')
    writeFileAtomic(file, Uint8Array.from([1, 2, 3]))
    expect([...fs.readFileSync(file)]).toEqual([1, 2, 3])
    writeJsonAtomic(file, { b: [1, 2] })
    expect(fs.readFileSync(file, 'utf8')).toBe('{\n  "b": [\n    1,\n    2\n  ]\n}\n')
    expect(fs.readdirSync(dir)).toEqual(['a.json'])
  })

  it('streams a file that is absent under its name until commit, then complete', () => {
    const dir = tempDir()
    const file = path.join(dir, 'big.bin')
    const out = new DurableWriter(file)
    const chunk = Buffer.alloc(1 << 20, 7)
    for (let i = 0; i < 5; i++) {
      out.write(chunk)
      expect(fs.existsSync(file)).toBe(false)
    }
    out.write('tail')
    expect(fs.readdirSync(dir)).toEqual([path.basename(out.temp)])
    expect(out.bytes).toBe(5 * (1 << 20) + 4)
    out.commit()
    const got = fs.readFileSync(file)
    expect(got.length).toBe(5 * (1 << 20) + 4)
    expect(got.subarray(0, 5 << 20).every((b) => b === 7)).toBe(true)
    expect(got.subarray(5 << 20).toString()).toBe('tail')
    expect(fs.readdirSync(dir)).toEqual(['big.bin'])
    out.abort() // after commit: nothing to drop, the file stays
    expect(fs.existsSync(file)).toBe(true)
    expect(() => out.write('more')).toThrow(/already committed or aborted/)
  })

  it('leaves neither the file nor a temp when a writer is aborted, and keeps an older file', () => {
    const dir = tempDir()
    const file = path.join(dir, 'out.jsonl')
    const fresh = new DurableWriter(file)
    fresh.write('{"half":')
    fresh.abort()
    expect(fs.readdirSync(dir)).toEqual([])
    fs.writeFileSync(file, 'old\n')
    const over = new DurableWriter(file)
    over.write('new\n')
    over.abort()
    over.abort()
    expect(fs.readdirSync(dir)).toEqual(['out.jsonl'])
    expect(fs.readFileSync(file, 'utf8')).toBe('old\n')
  })

  it("does not take a crashed writer's temp for the file and sweeps it on the next write", () => {
    const dir = tempDir()
    const configs = new SavedConfigs(dir)
    const file = path.join(dir, 'small.json')
    // What a writer killed mid-write leaves: a temp named after the target, half written.
    const leftover = path.join(dir, `.small.json.tmp-${deadPid()}-k1lled00`)
    fs.writeFileSync(leftover, '{"model": {"nLay')
    const live = path.join(dir, `.small.json.tmp-${process.ppid}-running0`)
    fs.writeFileSync(live, '{"still": "writing')
    expect(fs.existsSync(file)).toBe(false)
    expect(configs.list()).toEqual([])
    expect(tempName(file).startsWith(path.join(dir, '.small.json.tmp-'))).toBe(true)
    expect(tempName(file).endsWith('.json')).toBe(false)

    const out = new DurableWriter(file)
    expect(fs.existsSync(leftover)).toBe(false) // the dead writer's temp is gone
    expect(fs.existsSync(live)).toBe(true) // a running process's temp is not touched
    out.write('{"ok": true}\n')
    out.commit()
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ ok: true })
    expect(fs.readdirSync(dir).sort()).toEqual([path.basename(live), 'small.json'].sort())
  })

  it('commits a file written under a known name (a resumed download)', () => {
    const dir = tempDir()
    const part = path.join(dir, 'data.jsonl.part')
    fs.writeFileSync(part, 'line 1\n')
    fs.appendFileSync(part, 'line 2\n')
    commitFile(part, path.join(dir, 'data.jsonl'))
    expect(fs.readdirSync(dir)).toEqual(['data.jsonl'])
    expect(fs.readFileSync(path.join(dir, 'data.jsonl'), 'utf8')).toBe('line 1\nline 2\n')
  })

  it('replaces a folder whole: the old one until commit, the new one after, nothing else left', () => {
    const root = tempDir()
    const dir = path.join(root, 'step-10')
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, 'old.txt'), 'old')
    const tmp = createTempDirectory(dir)
    writeFileAtomic(path.join(tmp, 'model.bin'), 'weights')
    writeJsonAtomic(path.join(tmp, 'config.json'), { n: 1 })
    expect(fs.readdirSync(dir)).toEqual(['old.txt'])
    commitDirectory(tmp, dir)
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'model.bin'])
    expect(fs.readdirSync(root)).toEqual(['step-10'])
    const first = createTempDirectory(path.join(root, 'step-20'))
    writeFileAtomic(path.join(first, 'model.bin'), 'w20')
    commitDirectory(first, path.join(root, 'step-20'))
    expect(fs.readFileSync(path.join(root, 'step-20', 'model.bin'), 'utf8')).toBe('w20')
    expect(fs.readdirSync(root).sort()).toEqual(['step-10', 'step-20'])
  })
})
