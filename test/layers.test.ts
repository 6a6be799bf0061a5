// The dependency direction of ARCHITECTURE.md, checked on the sources: renderer -> shared <- main
// -> workers; no Electron outside the Electron host and preload; no Node or DOM in shared.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers'

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|vue)$/.test(f))
    .map((f) => path.join(dir, f))
}

function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3])
}

function violations(dir: string, forbidden: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((file) => imports(file).filter((spec) => forbidden(spec, file)).map((spec) => `${file} imports ${spec}`))
}

const resolvesInto = (spec: string, file: string, target: string): boolean =>
  spec.startsWith('.') && path.resolve(ROOT, path.dirname(file), spec).startsWith(path.join(ROOT, target))

describe('layering', () => {
  it('keeps src/shared free of Node, Electron and the other layers', () => {
    expect(violations('src/shared', (s, f) => s.startsWith('node:') || s === 'electron' || !['zod'].includes(s) && !s.startsWith('.') || resolvesInto(s, f, 'src/main') || resolvesInto(s, f, 'src/workers'))).toEqual([])
  })

  it('keeps Electron out of services, workers and the CLI / web host', () => {
    const electronHosts = new Set([path.join('src', 'main', 'index.ts'), path.join('src', 'preload', 'index.ts')])
    const offenders = [...violations('src/main', (s, f) => s === 'electron' && !electronHosts.has(f)), ...violations('src/workers', (s) => s === 'electron')]
    expect(offenders).toEqual([])
  })

  it('keeps the renderer on the API: no main, workers, Node or Electron imports', () => {
    expect(violations('src/renderer', (s, f) => s.startsWith('node:') || s === 'electron' || resolvesInto(s, f, 'src/main') || resolvesInto(s, f, 'src/workers'))).toEqual([])
  })

  it('keeps SQLite out of workers (they stream messages; main persists)', () => {
    expect(violations('src/workers', (s, f) => s === 'better-sqlite3' || resolvesInto(s, f, 'src/main'))).toEqual([])
  })
})
