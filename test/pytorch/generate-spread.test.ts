// The batch modes over several PyTorch model servers (issue 18: "generation batches spread the same
// way"): unconditional samples and an input file on cpu:0 and cpu:1 write the file one server
// writes, line for line (durations aside), in input order, with samples decoded on both (the
// summary's per-device counts and each server's own count of decode steps); a cancel ends the run
// keeping an in-order prefix, and a server that is gone fails the run naming its device. `gptw
// generate --engine pytorch --devices cpu:0,cpu:1 --config FILE` writes the same lines.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { ModelServer } from '../../src/core/engine/pytorch/model-server'
import { type DeviceGenerator, type OutputLine, generateFromFile, generateUnconditional } from '../../src/core/generate/modes'
import { torchGenerator } from '../../src/core/generate/torch-decoder'
import { ROOT, tempDir } from '../helpers'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const DEVICES = ['cpu:0', 'cpu:1']
const SAMPLES = 8
const params = SamplingParams.parse({ maxNewTokens: 8, temperature: 1, topK: 40, seed: 100, stopAtEndOfText: false })
const PROMPTS = ['Call me Ishmael.', 'The whale', 'It was the best of times', 'Ahab', 'Queequeg', 'The sea']

/** A JSONL output without the lines' timings, which differ from run to run. */
const lines = (file: string): Omit<OutputLine, 'duration_seconds'>[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const { duration_seconds: _d, ...rest } = JSON.parse(l) as OutputLine
      return rest
    })

describeTorch('batch modes spread over PyTorch model servers', () => {
  const dir = tempDir('gptw-torch-genspread-')
  let servers: ModelServer[] = []
  let lanes: DeviceGenerator[] = []
  let input = ''
  let ckpt = ''

  beforeAll(async () => {
    ckpt = path.join(dir, 'step-1')
    randomCheckpoint(ckpt, { nCtx: 64, seed: 31 })
    input = path.join(dir, 'prompts.txt')
    fs.writeFileSync(input, PROMPTS.join('\n') + '\n')
    servers = await Promise.all(
      DEVICES.map((device) => ModelServer.start({ checkpoint: ckpt, device, dtype: 'float32', purpose: 'generate', python: PYTHON, packageDir: PACKAGE_DIR, batchSize: 1, threads: 1 }))
    )
    lanes = servers.map((s, k) => ({ device: DEVICES[k], generator: torchGenerator(s) }))
  })
  afterAll(async () => {
    for (const l of lanes) l.generator.dispose()
    await Promise.all(servers.map((s) => s.close()))
  })

  /** One-token decode forwards each server has run, counted by sequences. */
  const stepped = (): number[] => servers.map((s) => [...s.stepBatches].reduce((n, [width, count]) => n + width * count, 0))

  it('unconditional samples and an input file on two servers write the one-server file, in order, decoded on both', async () => {
    const one = path.join(dir, 'one.jsonl')
    const two = path.join(dir, 'two.jsonl')
    await generateUnconditional(lanes[0].generator, params, SAMPLES, one)
    const before = stepped()
    const progress: number[] = []
    const summary = await generateUnconditional(lanes, params, SAMPLES, two, { progress: (done) => progress.push(done) })
    const want = lines(one)
    expect(new Set(want.map((l) => l.text)).size).toBe(SAMPLES)
    expect(lines(two)).toEqual(want)
    expect(want.map((l) => l.parameters.seed)).toEqual(Array.from({ length: SAMPLES }, (_, i) => 100 + i))
    expect(summary.written).toBe(SAMPLES)
    expect(progress).toEqual(Array.from({ length: SAMPLES }, (_, i) => i + 1))
    // both made samples, by the summary and by each server's own count
    expect(summary.devices!.map((d) => d.device)).toEqual(DEVICES)
    expect(summary.devices!.every((d) => d.samples > 0)).toBe(true)
    expect(summary.devices!.reduce((n, d) => n + d.samples, 0)).toBe(SAMPLES)
    expect(summary.devices!.reduce((n, d) => n + d.tokens, 0)).toBe(summary.tokens)
    stepped().forEach((n, k) => expect(n - before[k], DEVICES[k]).toBe(summary.devices![k].tokens - summary.devices![k].samples))

    const fileOne = path.join(dir, 'file-one.jsonl')
    const fileTwo = path.join(dir, 'file-two.jsonl')
    await generateFromFile(lanes[0].generator, params, input, fileOne)
    const fromFile = await generateFromFile(lanes, params, input, fileTwo)
    expect(lines(fileTwo)).toEqual(lines(fileOne))
    expect(lines(fileTwo).map((l) => l.context)).toEqual(PROMPTS)
    expect(fromFile.devices!.every((d) => d.samples > 0)).toBe(true)
  })

  it('a cancel ends the run on both servers, keeping an in-order prefix', async () => {
    const one = path.join(dir, 'one.jsonl')
    const out = path.join(dir, 'cancelled.jsonl')
    let done = 0
    const cancel = new Error('cancelled by the test')
    const run = generateUnconditional(lanes, params, SAMPLES, out, {
      progress: (d) => (done = d),
      between: async () => {
        if (done >= 3) throw cancel
      }
    })
    await expect(run).rejects.toBe(cancel)
    // the sample under way on the other server is cut and left out, so the file may end before the third
    const kept = lines(out)
    expect(kept.length).toBeGreaterThan(0)
    expect(done).toBeLessThan(SAMPLES)
    expect(kept).toEqual(lines(one).slice(0, kept.length))
  })

  it('gptw generate --engine pytorch --devices cpu:0,cpu:1 writes the same lines; --prompt with several devices is refused', () => {
    const config = path.join(dir, 'spread.json')
    fs.writeFileSync(config, JSON.stringify({ mode: 'unconditional', checkpoint: ckpt, numSamples: 4, outputFile: 'cli.jsonl', sampling: params }))
    const gptw = (args: string[]) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'generate', '--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', ...args], {
        encoding: 'utf8',
        env: { ...process.env, GPTW_HOME: tempDir(), GPTW_PYTHON: PYTHON, GPTW_TORCH_PACKAGE_DIR: PACKAGE_DIR },
        timeout: 120_000
      })
    const r = gptw(['--config', config, '--json'])
    expect(r.status, r.stderr).toBe(0)
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { written: number; devices: { device: string; samples: number }[] }
    expect(summary.written).toBe(4)
    expect(summary.devices.map((d) => d.device)).toEqual(DEVICES)
    expect(summary.devices.every((d) => d.samples > 0)).toBe(true)
    expect(lines(path.join(dir, 'cli.jsonl'))).toEqual(lines(path.join(dir, 'one.jsonl')).slice(0, 4))

    const refused = gptw(['--checkpoint', ckpt, '--prompt', 'x'])
    expect(refused.status).not.toBe(0)
    expect(refused.stderr).toContain('Several --devices spread the batch modes (--samples N, --input FILE)')
  })

  it('a server that is gone fails the run naming its device; the lines before its sample stay', async () => {
    const one = path.join(dir, 'one.jsonl')
    const out = path.join(dir, 'failed.jsonl')
    await servers[1].close()
    await expect(generateUnconditional(lanes, params, SAMPLES, out)).rejects.toThrow(/^Generation on cpu:1 failed at sample 2 of 8: .*cpu.*exited.*failed\.jsonl keeps the 1 line\(s\) before it/)
    expect(lines(out)).toEqual(lines(one).slice(0, 1))
  })
})
