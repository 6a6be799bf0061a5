// The dependency direction of docs/architecture.md, checked on the sources:
// renderer -> shared <- main -> core <- workers. Main and workers never import each other; core
// knows no host, SQLite or Electron; services never load tfjs, not even through core; shared
// imports neither Node nor Electron.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ROOT } from './helpers'

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|vue)$/.test(f))
    .map((f) => path.join(dir, f))
}

function imports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2] ?? m[3])
}

/** Type-only imports vanish at build time, so they cannot load anything. */
function runtimeImports(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8')
  return [...text.matchAll(/(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].filter((m) => !m[2]).map((m) => m[3] ?? m[4])
}

function violations(dir: string, forbidden: (spec: string, file: string) => boolean): string[] {
  return sources(dir).flatMap((file) =>
    imports(file)
      .filter((spec) => forbidden(spec, file))
      .map((spec) => `${file} imports ${spec}`)
  )
}

const resolvesInto = (spec: string, file: string, target: string): boolean => spec.startsWith('.') && path.resolve(ROOT, path.dirname(file), spec).startsWith(path.join(ROOT, target) + path.sep)

function resolveSource(spec: string, file: string): string | null {
  const base = path.resolve(ROOT, path.dirname(file), spec)
  for (const candidate of [base + '.ts', path.join(base, 'index.ts'), base]) if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return path.relative(ROOT, candidate)
  return null
}

/** The packages a file loads at run time, following relative imports: the chain to the first one that matches. */
function loadsPackage(start: string, matches: (pkg: string) => boolean): string[] | null {
  const seen = new Set<string>([start])
  const queue: string[][] = [[start]]
  while (queue.length) {
    const chain = queue.shift()!
    const file = chain[chain.length - 1]
    for (const spec of runtimeImports(file)) {
      if (!spec.startsWith('.')) {
        if (matches(spec)) return [...chain, spec]
        continue
      }
      const next = resolveSource(spec, file)
      if (next && !seen.has(next)) {
        seen.add(next)
        queue.push([...chain, next])
      }
    }
  }
  return null
}

const isNodeBuiltin = (s: string): boolean => s.startsWith('node:')

describe('layering', () => {
  it('keeps src/shared free of Node, Electron and the other layers', () => {
    expect(
      violations(
        'src/shared',
        (s, f) =>
          isNodeBuiltin(s) || s === 'electron' || (!['zod'].includes(s) && !s.startsWith('.')) || resolvesInto(s, f, 'src/main') || resolvesInto(s, f, 'src/workers') || resolvesInto(s, f, 'src/core')
      )
    ).toEqual([])
  })

  it('keeps core free of hosts: no main, workers, Electron or SQLite', () => {
    expect(violations('src/core', (s, f) => s === 'electron' || s === 'better-sqlite3' || resolvesInto(s, f, 'src/main') || resolvesInto(s, f, 'src/workers'))).toEqual([])
  })

  it('keeps main and workers apart: each imports core and shared, never the other', () => {
    expect([...violations('src/main', (s, f) => resolvesInto(s, f, 'src/workers')), ...violations('src/workers', (s, f) => resolvesInto(s, f, 'src/main'))]).toEqual([])
  })

  it('keeps workers to entry points: one flat folder, each file a job kind or the runtime they share', () => {
    const nested = fs.readdirSync(path.join(ROOT, 'src/workers'), { withFileTypes: true }).filter((e) => e.isDirectory())
    expect(nested.map((e) => e.name)).toEqual([])
  })

  it('keeps Electron out of services, core, workers and the CLI / web host', () => {
    const electronHosts = new Set([path.join('src', 'main', 'index.ts'), path.join('src', 'preload', 'index.ts')])
    const offenders = [...violations('src/main', (s, f) => s === 'electron' && !electronHosts.has(f)), ...violations('src/workers', (s) => s === 'electron')]
    expect(offenders).toEqual([])
  })

  it('keeps tfjs out of the services, also through what they import from core', () => {
    const chains = sources('src/main/services')
      .map((file) => loadsPackage(file, (pkg) => pkg.startsWith('@tensorflow/')))
      .filter((chain): chain is string[] => chain !== null)
      .map((chain) => chain.join(' -> '))
    expect(chains).toEqual([])
  })

  it('the tfjs check sees through core: the CLI score command does load tfjs', () => {
    expect(loadsPackage(path.join('src', 'main', 'cli', 'score.ts'), (pkg) => pkg.startsWith('@tensorflow/'))).not.toBeNull()
  })

  it('keeps the renderer on the API: only shared, no main, core, workers, Node or Electron imports', () => {
    expect(violations('src/renderer', (s, f) => isNodeBuiltin(s) || s === 'electron' || resolvesInto(s, f, 'src/main') || resolvesInto(s, f, 'src/workers') || resolvesInto(s, f, 'src/core'))).toEqual(
      []
    )
  })

  it('keeps SQLite out of workers (they stream messages; main persists)', () => {
    expect(violations('src/workers', (s) => s === 'better-sqlite3')).toEqual([])
  })
})
