// The config's `sharding` (python/gptw_torch/sharding.py). `optimizer` (ZeRO stage 1) under real
// torchrun with 2 gloo CPU processes: the same losses and parameters as one process and as two
// unsharded, each rank holding part of AdamW's moments; checkpoints keep the full moments, so a
// sharded run's checkpoint resumes unsharded and in one process, and an unsharded one resumes
// sharded, continuing as the uninterrupted run. `full` (FSDP) needs torch >= 2 with CUDA: here it
// is refused with a message, by the schema, before launch and by the trainer; it never runs here.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { MODEL_FILE } from '../../src/core/engine/checkpoint'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { shardingProblem } from '../../src/core/engine/pytorch/sharding'
import { memoryPerDevice, zeroShares } from '../../src/shared/config/estimates'
import { enumOptions } from '../../src/renderer/src/components/train/config-paths'
import { FIELD_GROUPS } from '../../src/renderer/src/components/train/fields'
import { TrainConfig, type TrainConfigInput } from '../../src/shared/config/train'
import { LOCAL_RENDEZVOUS } from '../../src/shared/torchrun'
import { ROOT, tempDir } from '../helpers'
import { DATA_PARALLEL_CONFIG, PYTHON, SLOW, type StepRecord, describeTorch, makeDataset, python, records, relativeError, steps, trainPython } from './helpers'

// Checkpoints every 3 steps: a run's middle checkpoint is resumed below.
const CONFIG: TrainConfigInput = { ...DATA_PARALLEL_CONFIG, checkpoint: { interval: 3, keepLast: 2 } }
const SHARDED: TrainConfigInput = { ...CONFIG, engine: 'pytorch', sharding: 'optimizer' }
const OPTIMIZER_FILE = 'optimizer.safetensors'

// As torchrun.test.ts: torch 1.13's launcher on Python 3.11 needs --redirects / --tee given.
const LAUNCHER = ['-m', 'torch.distributed.run', ...LOCAL_RENDEZVOUS, '--redirects', '2', '--tee', '2', '--nproc_per_node', '2']

interface Run {
  steps: StepRecord[]
  stdout: string
  checkpoints: string
}

/** Two gloo CPU processes under torchrun, the config written to DIR/run.json. */
function torchrun(dir: string, config: TrainConfigInput, dataset: string, extra: string[] = []): Run {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'run.json')
  fs.writeFileSync(file, JSON.stringify(config))
  const { stdout } = python([...LAUNCHER, '-m', 'gptw_torch', 'train', '--config', file, '--dataset', dataset, '--out', dir, ...extra])
  return { steps: steps(stdout), stdout, checkpoints: path.join(dir, 'checkpoints') }
}

const GPTW = path.join(ROOT, 'bin', 'gptw.js')

function gptw(home: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GPTW, ...args], { env: { ...process.env, GPTW_HOME: home, GPTW_PYTHON: PYTHON }, encoding: 'utf8', timeout: 280_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const tensors = (checkpoints: string, step: number, file: string) => readSafetensors(path.join(checkpoints, `step-${step}`, file))

/** The largest relative difference between two checkpoints' tensors of one file, tensor by tensor. */
function fileError(a: string, b: string, step: number, file: string): number {
  const x = tensors(a, step, file).tensors
  const y = tensors(b, step, file).tensors
  expect([...y.keys()].sort()).toEqual([...x.keys()].sort())
  return Math.max(...[...x].map(([name, t]) => relativeError(y.get(name)!.data, t.data)))
}

function expectSameSteps(got: StepRecord[], want: StepRecord[], tolerance: number): void {
  expect(got.map((s) => s.step)).toEqual(want.map((s) => s.step))
  got.forEach((s, i) => {
    expect(relativeError([s.loss], [want[i].loss]), `loss at step ${s.step}`).toBeLessThanOrEqual(tolerance)
    expect(relativeError([s.gradNorm], [want[i].gradNorm]), `grad norm at step ${s.step}`).toBeLessThanOrEqual(tolerance)
  })
}

/** Each rank's optimizer-state bytes at the last step (the step line's devices list). */
function stateBytes(run: Run): number[] {
  const devices =
    (
      run.stdout
        .split('\n')
        .filter((l) => l.includes('"type": "step"'))
        .at(-1) ?? ''
    ).match(/"optimizerStateBytes": ([\d.]+)/g) ?? []
  return devices.map((d) => Number(d.split(': ')[1]))
}

describe('sharding in the config and before launch', () => {
  const base = { ...CONFIG, devices: ['cpu:0', 'cpu:1'] }

  it('defaults to none; optimizer and full are refused on the embedded engine, full on CPU devices, with what runs instead', () => {
    expect(TrainConfig.parse(base).sharding).toBe('none')
    expect(TrainConfig.parse({ ...base, engine: 'pytorch', sharding: 'optimizer' }).sharding).toBe('optimizer')
    const embedded = TrainConfig.safeParse({ ...base, sharding: 'optimizer' })
    expect(embedded.success).toBe(false)
    expect(embedded.error!.issues[0]).toMatchObject({ path: ['sharding'], message: expect.stringContaining('runs on the PyTorch engine only') })
    const cpuFull = TrainConfig.safeParse({ ...base, engine: 'pytorch', sharding: 'full' })
    expect(cpuFull.error!.issues[0].message).toMatch(/needs CUDA GPUs.*use sharding optimizer/)
    expect(TrainConfig.safeParse({ ...base, engine: 'pytorch', sharding: 'zero2' }).success).toBe(false)
    expect(TrainConfig.parse({ ...base, engine: 'pytorch', sharding: 'full', devices: ['gpu:0', 'gpu:1'] }).sharding).toBe('full')
  })

  it("the memory estimate counts the fullest device's share", () => {
    const gpt2 = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024 }
    const on = (sharding: 'none' | 'optimizer' | 'full', devices: string[]) =>
      memoryPerDevice({ model: TrainConfig.parse({ ...CONFIG, model: gpt2 }).model, batchSize: 8, microBatches: 1, devices, sharding }).state
    const gpus = Array.from({ length: 8 }, (_, i) => `gpu:${i}`)
    const shares = zeroShares(TrainConfig.parse({ ...CONFIG, model: gpt2 }).model, 8)
    const params = shares.reduce((a, b) => a + b)
    expect(on('none', gpus)).toBe(params * 16)
    expect(on('optimizer', gpus)).toBe(params * 8 + Math.max(...shares) * 8)
    expect(on('optimizer', ['gpu:0'])).toBe(params * 16)
    expect(on('full', gpus)).toBeLessThan(on('optimizer', gpus))
    // GPT-2 small on 8 ranks: the embedding (50304 x 768 = 38.6M) is one rank's whole share; the others hold about 10.8M each.
    expect(Math.max(...shares)).toBe(50304 * 768)
  })

  it('the Train form offers it as a choice', () => {
    expect(enumOptions('sharding')).toEqual(['none', 'optimizer', 'full'])
    expect(FIELD_GROUPS.flatMap((g) => g.fields).find((f) => f.path === 'sharding')).toMatchObject({ label: 'Sharding', choices: 'enum' })
  })

  it("full is refused before launch on the probed interpreter's torch < 2 or without CUDA, naming both", () => {
    expect(shardingProblem('full', { torch: '2.4.1+cu121', cudaAvailable: true })).toBeNull()
    expect(shardingProblem('optimizer', { torch: '1.13.0a0', cudaAvailable: false })).toBeNull()
    expect(shardingProblem('full', { torch: '1.13.0a0', cudaAvailable: true })).toMatch(/needs torch >= 2.0 with CUDA; this is torch 1.13.0a0 with CUDA\. Use sharding optimizer/)
    expect(shardingProblem('full', { torch: '2.1.0', cudaAvailable: false })).toContain('torch 2.1.0 without CUDA')
  })
})

describeTorch('sharding optimizer (ZeRO stage 1) under torchrun', () => {
  let dataset: string
  let single: Run
  let plain: Run
  let sharded: Run

  beforeAll(() => {
    dataset = makeDataset(tempDir(), 50_000).dir
    single = trainPython(path.join(tempDir(), 'single'), CONFIG, dataset)
    plain = torchrun(path.join(tempDir(), 'plain'), CONFIG, dataset)
    sharded = torchrun(path.join(tempDir(), 'sharded'), SHARDED, dataset)
    expect(single.steps).toHaveLength(6)
  }, SLOW)

  it('trains to the losses and parameters of one process and of two unsharded, each rank holding part of the moments', () => {
    expect(records(sharded.stdout).find((r) => r.type === 'start')).toMatchObject({ world: 2, sharding: 'optimizer' })
    expect(records(plain.stdout).find((r) => r.type === 'start')).toMatchObject({ world: 2, sharding: 'none' })
    // Against one process: the tolerances of torchrun.test.ts (the ranks sum gradients in another order).
    expectSameSteps(sharded.steps, single.steps, 1e-5)
    expect(fileError(single.checkpoints, sharded.checkpoints, 6, MODEL_FILE)).toBeLessThan(1e-3)
    // Against two unsharded processes: each parameter gets the same AdamW update, on the rank that owns it.
    expectSameSteps(sharded.steps, plain.steps, 1e-6)
    const weights = fileError(plain.checkpoints, sharded.checkpoints, 6, MODEL_FILE)
    expect(weights).toBeLessThan(1e-6)
    const mine = stateBytes(sharded)
    const whole = stateBytes(plain)
    console.log(`optimizer state per rank: sharded ${mine.join(' + ')} bytes, unsharded ${whole.join(', ')}; weights vs unsharded ${weights.toExponential(2)}`)
    expect(mine).toHaveLength(2)
    expect(whole[0]).toBe(whole[1])
    // Parameters are whole (the largest first, to the rank holding the fewest elements): every byte on exactly one rank.
    expect(mine[0] + mine[1]).toBe(whole[0])
    expect(Math.max(...mine)).toBeLessThan(whole[0])
    // The memory estimate's partition (zeroShares) is torch's: 8 bytes of moments per element, plus a 4-byte step per tensor (28 here).
    zeroShares(TrainConfig.parse(CONFIG).model, 2).forEach((share, rank) => expect(Math.abs(mine[rank] - 8 * share)).toBeLessThanOrEqual(4 * 28))
  })

  it("its checkpoints hold the full moments and step, as the unsharded run's", () => {
    for (const step of [3, 6]) {
      const a = tensors(plain.checkpoints, step, OPTIMIZER_FILE)
      const b = tensors(sharded.checkpoints, step, OPTIMIZER_FILE)
      expect(b.metadata).toEqual(a.metadata)
      expect(b.metadata).toMatchObject({ format: 'gptw-adamw-v1', step: String(step) })
      expect(fileError(plain.checkpoints, sharded.checkpoints, step, OPTIMIZER_FILE)).toBeLessThan(1e-6)
      expect(fileError(single.checkpoints, sharded.checkpoints, step, OPTIMIZER_FILE)).toBeLessThan(1e-3)
    }
  })

  it('a sharded checkpoint resumes in one process and in two unsharded, and an unsharded one resumes sharded, as the uninterrupted run', () => {
    const from = (r: Run) => path.join(r.checkpoints, 'step-3')
    const rest = single.steps.slice(3)
    const one = trainPython(path.join(tempDir(), 'resumed-one'), CONFIG, dataset, ['--resume', from(sharded)])
    expectSameSteps(one.steps, rest, 1e-5)
    const two = torchrun(path.join(tempDir(), 'resumed-two'), CONFIG, dataset, ['--resume', from(sharded)])
    expectSameSteps(two.steps, plain.steps.slice(3), 1e-6)
    const reSharded = torchrun(path.join(tempDir(), 'resumed-sharded'), SHARDED, dataset, ['--resume', from(single)])
    expectSameSteps(reSharded.steps, rest, 1e-5)
    // The resumed runs end where the uninterrupted ones did, moments included.
    expect(fileError(sharded.checkpoints, two.checkpoints, 6, OPTIMIZER_FILE)).toBeLessThan(1e-6)
    expect(fileError(single.checkpoints, one.checkpoints, 6, MODEL_FILE)).toBeLessThan(1e-3)
    expect(fileError(single.checkpoints, reSharded.checkpoints, 6, OPTIMIZER_FILE)).toBeLessThan(1e-3)
  })

  it('gptw train --sharding: checked as a flag, refused where it cannot run, and trains through the app', () => {
    const home = tempDir()
    const base = ['train', '--engine', 'pytorch', '--dataset', dataset]
    const bad = gptw(home, [...base, '--sharding', 'zero2', '--dry-run'])
    expect(bad.status).not.toBe(0)
    expect(bad.stderr).toContain('--sharding is none, optimizer or full, not "zero2"')
    const embedded = gptw(home, ['train', '--sharding', 'optimizer', '--dataset', dataset, '--dry-run'])
    expect(embedded.status).not.toBe(0)
    expect(embedded.stderr).toContain('runs on the PyTorch engine only')
    // auto picks the embedded engine on CPU devices, whose worker refuses any sharding.
    const auto = gptw(home, ['train', '--engine', 'auto', '--devices', 'cpu:0,cpu:1', '--sharding', 'optimizer', '--dataset', dataset, '--steps', '1'])
    expect(auto.status).toBe(1)
    expect(auto.stderr).toContain('sharding optimizer runs on the PyTorch engine only, and engine auto resolved to the embedded engine')
    // Valid for GPUs; this interpreter's torch 1.13 without CUDA refuses it before anything starts.
    const full = gptw(home, [...base, '--devices', 'gpu:0', '--sharding', 'full', '--dry-run'])
    expect(full.status).toBe(1)
    expect(full.stderr).toMatch(/sharding full \(FSDP FULL_SHARD\) needs torch >= 2.0 with CUDA; this is torch \S+ (with|without) CUDA/)
    const r = gptw(home, [...base, '--devices', 'cpu:0,cpu:1', '--sharding', 'optimizer', '--steps', '2'])
    expect(r.status, r.stderr).toBe(0)
    // The run's backend line (the job log; the CLI prints it) names the sharding the ranks run.
    expect(r.stderr).toMatch(/Backend: pytorch \S+ cpu \(2 processes, gloo, float32, sharding optimizer\)/)
    expect(r.stderr).toContain('Done. Checkpoints in')
    const runs = path.join(home, 'runs')
    const configs = fs
      .readdirSync(runs)
      .filter((d) => fs.existsSync(path.join(runs, d, 'pytorch-config.json')))
      .map((d) => JSON.parse(fs.readFileSync(path.join(runs, d, 'pytorch-config.json'), 'utf8')) as { sharding: string })
    expect(configs.map((c) => c.sharding)).toEqual(['optimizer'])
  })

  it('a pause (the pause file) checkpoints with the full moments, every rank sending its share, and resumes as the uninterrupted run', () => {
    const dir = path.join(tempDir(), 'paused')
    const pauseFile = path.join(dir, 'pause-request')
    fs.mkdirSync(dir, { recursive: true })
    fs.writeFileSync(pauseFile, '')
    // Rank 0 sees the file after the first step; the ranks agree on it in the step's all-reduce.
    const paused = torchrun(dir, SHARDED, dataset, ['--pause-file', pauseFile])
    const at = records(paused.stdout).find((r) => r.type === 'paused') as { step: number; dir: string } | undefined
    expect(at, paused.stdout).toMatchObject({ step: 1 })
    expect(records(paused.stdout).some((r) => r.type === 'done')).toBe(false)
    expect(tensors(paused.checkpoints, 1, OPTIMIZER_FILE).metadata).toMatchObject({ step: '1' })
    const resumed = trainPython(path.join(tempDir(), 'resumed-pause'), CONFIG, dataset, ['--resume', at!.dir])
    expectSameSteps(resumed.steps, single.steps.slice(1), 1e-5)
    expect(fileError(single.checkpoints, resumed.checkpoints, 6, OPTIMIZER_FILE)).toBeLessThan(1e-3)
  })

  it('full is refused at start on this torch / CPU, naming the version and what runs instead', () => {
    expect(() => trainPython(path.join(tempDir(), 'full'), { ...CONFIG, sharding: 'full' }, dataset)).toThrow(
      /sharding full \(FSDP FULL_SHARD\) needs torch >= 2.0 with CUDA; this is torch \S+ on the CPU\. Use sharding optimizer/
    )
  })
})
