// Running the PyTorch engine (python/gptw_torch) from tests: the interpreter (GPTW_PYTHON, else
// Debian's /usr/bin/python3, which has python3-torch), a token shard folder made from real text,
// and the engine's JSON step lines. Without torch the suites skip on a developer machine and
// fail, saying what to install, under CI=true (.ci/run installs it).
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { beforeAll, describe } from 'vitest'
import { END_OF_TEXT, encodeText } from '../../src/core/data/gpt2-tokenizer'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { torchrunLogDir } from '../../src/shared/torchrun'
import type { Workbench } from '../../src/main/services/workbench'
import { MOBY_DICK, RESOURCES_DIR, ROOT } from '../helpers'

export const PYTHON = process.env.GPTW_PYTHON || '/usr/bin/python3'

/** The tiny-cpu preset's training config (resources/presets/tiny-cpu.json). */
export const TINY_PRESET = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

/**
 * A 2-layer model trained 6 steps of 8 sequences in 2 micro-batches: what the data-parallel tests
 * (torchrun, sharding) train in one process and in several. Validation off: its windows depend on
 * the world size (batchSize / world per batch, as on the embedded engine).
 */
export const DATA_PARALLEL_CONFIG: TrainConfigInput = {
  model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
  batchSize: 8,
  microBatches: 2,
  steps: 6,
  optimizer: { lr: 3e-3, weightDecay: 0.1 },
  schedule: { warmupSteps: 2 },
  eval: { interval: 0 },
  checkpoint: { interval: 0, keepLast: 2 },
  seed: 3
}

/** A TCP port of 127.0.0.1 free a moment ago (for a rendezvous or a daemon the test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}
export const PACKAGE_DIR = path.join(ROOT, 'python')

/** Why torch cannot be used here, or null when it can. */
export const torchProblem: string | null = (() => {
  const r = spawnSync(PYTHON, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' })
  if (r.error) return `${PYTHON} cannot be run (${r.error.message})`
  if (r.status !== 0) return `${PYTHON} cannot import torch and numpy: ${r.stderr.trim().split('\n').at(-1)}`
  return null
})()

/** Python processes that train take tens of seconds, more when the cores are shared. */
export const SLOW = 300_000

/** A describe block for tests that need torch: skipped without it, except under CI where it fails. */
export function describeTorch(name: string, body: () => void): void {
  const ci = process.env.CI === 'true'
  describe.skipIf(torchProblem !== null && !ci)(name, { timeout: SLOW }, () => {
    beforeAll(() => {
      if (torchProblem) throw new Error(`${torchProblem}. Install Debian's python3-torch python3-numpy libopenblas0-pthread, or point GPTW_PYTHON at a Python with torch.`)
    })
    body()
  })
}

export interface PyResult {
  stdout: string
  stderr: string
}

/** Runs the interpreter with python/ on the import path; throws with its stderr when it fails. */
export function python(args: string[], options: { env?: Record<string, string>; timeoutMs?: number } = {}): PyResult {
  const r = spawnSync(PYTHON, args, {
    cwd: PACKAGE_DIR,
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 240_000,
    maxBuffer: 64 << 20,
    env: { ...process.env, PYTHONPATH: PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1', ...options.env }
  })
  if (r.error) throw r.error
  if (r.status !== 0) throw new Error(`${PYTHON} ${args.join(' ')} exited with ${r.status}:\n${r.stderr}`)
  return { stdout: r.stdout, stderr: r.stderr }
}

/** The JSON objects the engine printed, one per stdout line. */
export function records(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

export interface StepRecord {
  step: number
  loss: number
  lr: number
  gradNorm: number
  tokensPerSec: number
  tokens: number
  elapsed: number
  valLoss?: number
}

export function steps(stdout: string): StepRecord[] {
  return records(stdout).filter((r) => r.type === 'step') as unknown as StepRecord[]
}

/** `python3 -m gptw_torch train` with a config file written from `config`; returns its step lines. */
export function trainPython(dir: string, config: TrainConfigInput, dataset: string, extra: string[] = []): { steps: StepRecord[]; stdout: string; checkpoints: string } {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'run.json')
  fs.writeFileSync(file, JSON.stringify(config))
  const { stdout } = python(['-m', 'gptw_torch', 'train', '--config', file, '--dataset', dataset, '--out', dir, ...extra])
  return { steps: steps(stdout), stdout, checkpoints: path.join(dir, 'checkpoints') }
}

/** A token shard folder (train.bin, val.bin, meta.json as src/core/data/shards.ts writes them) of real English text. */
export function makeDataset(dir: string, chars = 120_000): { dir: string; train: Uint16Array; val: Uint16Array } {
  const text = fs.readFileSync(MOBY_DICK, 'utf8').slice(20_000, 20_000 + chars)
  const ids = Uint16Array.from([END_OF_TEXT, ...encodeText(text)])
  const cut = Math.floor(ids.length * 0.9)
  const train = ids.slice(0, cut)
  const val = ids.slice(cut)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, 'train.bin'), Buffer.from(train.buffer))
  fs.writeFileSync(path.join(dir, 'val.bin'), Buffer.from(val.buffer))
  const meta = {
    format: 'gptw-tokens-v1',
    tokenizer: 'gpt2',
    vocabSize: 50257,
    dtype: 'uint16',
    source: MOBY_DICK,
    splits: { train: { file: 'train.bin', tokens: train.length, documents: 1 }, val: { file: 'val.bin', tokens: val.length, documents: 1 } },
    createdAt: new Date(0).toISOString()
  }
  fs.writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2))
  return { dir, train, val }
}

/** max |a - b| / max |b|: relative error of a whole tensor (element-wise ratios blow up near zero). */
export function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`lengths differ: ${got.length} and ${want.length}`)
  let diff = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]))
    scale = Math.max(scale, Math.abs(want[i]))
  }
  return diff / scale
}

/** Every descendant of a pid, from /proc (the job's process tree). */
export function descendants(pid: number): { pid: number; args: string; env: string }[] {
  const children = new Map<number, number[]>()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const out: { pid: number; args: string; env: string }[] = []
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      try {
        out.push({ pid: c, args: fs.readFileSync(`/proc/${c}/cmdline`, 'utf8').replace(/\0/g, ' '), env: fs.readFileSync(`/proc/${c}/environ`, 'utf8') })
      } catch {
        continue
      }
      walk(c)
    }
  }
  walk(pid)
  return out
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A run of the tiny preset on the PyTorch engine over 2 CPU processes that lasts until stopped: no validation, no periodic checkpoint. */
export function longTorchRun(keepLast: number): TrainConfigInput {
  return { ...TINY_PRESET, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'], batchSize: 4, steps: 5000, eval: { interval: 0 }, checkpoint: { interval: 0, keepLast } }
}

/** Starts a train job through the API; its id. */
export async function startTrain(wb: Workbench, params: unknown): Promise<number> {
  const r = await wb.call('jobs.start', { kind: 'train', params })
  if (!r.ok) throw new Error(r.error.message)
  return r.value.id
}

/** The steps with a loss metric stored for a run. */
export function lossSteps(wb: Workbench, runId: number): number[] {
  return wb.runs
    .metrics(runId)
    .filter((m) => m.name === 'loss')
    .map((m) => m.step)
}

/** A job's log as text: what the worker and the ranks said, for a failing assertion's message. */
export function jobLog(wb: Workbench, jobId: number): string {
  return wb.jobs
    .logs(jobId, 0, 10_000)
    .map((l) => `${l.level} ${l.text}`)
    .join('\n')
}

/** What the ranks of a local run wrote to stderr (torchrun's log folder in the run folder), the last lines of each file: for a failing assertion's message. */
export function rankLogs(runDir: string, lines = 40): string {
  const root = torchrunLogDir(runDir)
  if (!fs.existsSync(root)) return `(no ${root})`
  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => /(stderr\.log|error\.json)$/.test(f)).sort()
  return files.map((f) => `--- ${f}\n${fs.readFileSync(path.join(root, f), 'utf8').split('\n').slice(-lines).join('\n')}`).join('\n') || `(nothing in ${root})`
}
