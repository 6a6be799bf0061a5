// Memory admission (issue 13, F4): a config past memory is refused before anything large is
// allocated, through the API, the CLI and the train worker itself; memoryCheck: false lets it
// through; eval and generation refuse a checkpoint that does not fit. GPTW_MEMORY_AVAILABLE_MB
// stands for a smaller machine.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryPerDevice } from '../src/shared/config/estimates'
import { TrainConfig, type TrainConfigInput } from '../src/shared/config/train'
import type { TrainParams } from '../src/shared/jobs'
import { inlineContext } from '../src/core/job-context'
import { trainJob } from '../src/core/engine/train-job'
import { MEMORY_AVAILABLE_ENV, availableHostMemory, gpuMemoryProblem, inferenceMemoryProblem, trainMemoryProblem } from '../src/core/memory-admission'
import { ensureSampleDataset } from '../src/main/services/sample-dataset'
import { Workbench } from '../src/main/services/workbench'
import { ROOT, tempDir } from './helpers'
import { closeWorkbenches, openWorkbench } from './workbench-fixture'

afterEach(async () => {
  delete process.env[MEMORY_AVAILABLE_ENV]
  await closeWorkbenches()
})
const workbench = (): Workbench => openWorkbench()

/** The largest shapes the schema allows: about 3.6e12 parameters, petabytes of activations. */
const largest: TrainConfigInput = {
  model: { nLayer: 256, nHead: 256, nEmbd: 32768, nCtx: 65536, vocabSize: 1 << 20 },
  batchSize: 1 << 16,
  steps: 1,
  optimizer: { lr: 1e-4 },
  backend: 'cpu'
}

const small: TrainConfigInput = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 },
  batchSize: 2,
  steps: 2,
  optimizer: { lr: 1e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 2, keepLast: 1 },
  backend: 'cpu',
  seed: 3
}
const smallMb = memoryPerDevice(TrainConfig.parse(small)).total / 2 ** 20

describe('memory admission', () => {
  it('refuses the largest config the schema allows through the API in well under 5 s, without allocating', async () => {
    const wb = workbench()
    const rssBefore = process.memoryUsage.rss()
    const t0 = performance.now()
    const reply = await wb.call('jobs.start', { kind: 'train', params: { config: largest } as unknown as TrainParams })
    const ms = performance.now() - t0
    expect(reply.ok).toBe(false)
    if (reply.ok) return
    expect(reply.error.code).toBe('bad_input')
    expect(reply.error.message).toMatch(/needs about [\d.]+ EiB .* but [\d.]+ GiB is available \(MemAvailable in \/proc\/meminfo\)/)
    expect(reply.error.message).toMatch(/smaller batchSize or more microBatches/)
    expect(reply.error.message).toMatch(/memoryCheck: false/)
    expect(ms).toBeLessThan(5000)
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(100 * 2 ** 20)
    // Nothing was started: no run row, no job.
    expect(wb.runs.list(10)).toHaveLength(0)
    expect(wb.jobs.list(10)).toHaveLength(0)
    // A preset past memory is refused the same way.
    const preset = await wb.call('jobs.start', { kind: 'train', params: { preset: 'gpt3' } })
    expect(preset.ok).toBe(false)
    if (!preset.ok) expect(preset.error.message).toMatch(/needs about/)
  })

  it('the figure comes from MemAvailable, or from GPTW_MEMORY_AVAILABLE_MB when set', () => {
    const meminfo = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))!
    // MemAvailable moves between two reads: same order of magnitude is what matters.
    expect(Math.abs(availableHostMemory({}).bytes - Number(meminfo[1]) * 1024)).toBeLessThan(512 * 2 ** 20)
    expect(availableHostMemory({ [MEMORY_AVAILABLE_ENV]: '123' })).toEqual({ bytes: 123 * 2 ** 20, source: MEMORY_AVAILABLE_ENV })
    expect(() => availableHostMemory({ [MEMORY_AVAILABLE_ENV]: 'lots' })).toThrow(/number of MiB/)
  })

  it('memoryCheck: false lets a slightly-over config train; eval and generation refuse a checkpoint past the limit', async () => {
    const wb = workbench()
    // Just under what the small config needs: refused, then let through by the override (main and worker both).
    process.env[MEMORY_AVAILABLE_ENV] = String(Math.floor(smallMb * 0.95))
    const refused = await wb.call('jobs.start', { kind: 'train', params: { config: small } as unknown as TrainParams })
    expect(refused.ok).toBe(false)
    if (!refused.ok) expect(refused.error.message).toMatch(/is available \(GPTW_MEMORY_AVAILABLE_MB\)/)
    const started = await wb.call('jobs.start', { kind: 'train', params: { config: { ...small, memoryCheck: false } } as unknown as TrainParams })
    if (!started.ok) throw new Error(started.error.message)
    const job = await wb.supervisor.waitForExit(started.value.id)
    expect(job.state, job.error ?? '').toBe('done')
    const checkpoint = wb.runs.checkpoints(wb.runs.byJob(job.id)!.id).at(-1)!.path

    // A limit below the engine alone: no checkpoint fits.
    process.env[MEMORY_AVAILABLE_ENV] = '64'
    const evalReply = await wb.call('jobs.start', { kind: 'eval', params: { checkpoints: [checkpoint], tasks: ['lambada'] } as never })
    expect(evalReply.ok).toBe(false)
    if (!evalReply.ok) expect(evalReply.error.message).toMatch(/Loading the checkpoint .* needs about .* but 0.06 GiB is available/)
    const load = await wb.call('generate.load', { checkpoint })
    expect(load.ok).toBe(false)
    if (!load.ok) expect(load.error.message).toMatch(/Loading the checkpoint .* needs about/)
    expect(wb.jobs.list(10)).toHaveLength(1)

    // Without the limit the same checkpoint loads.
    delete process.env[MEMORY_AVAILABLE_ENV]
    const loaded = await wb.call('generate.load', { checkpoint })
    if (!loaded.ok) throw new Error(loaded.error.message)
    expect(loaded.value.state).not.toBe('failed')
    await wb.call('generate.unload', { checkpoint })
  }, 120_000)

  it('the train worker caps itself before it allocates the model (an in-process run skips main)', async () => {
    const root = tempDir()
    const datasetDir = await ensureSampleDataset(path.join(root, 'datasets'))
    const config = TrainConfig.parse(largest)
    const rssBefore = process.memoryUsage.rss()
    const t0 = performance.now()
    await expect(trainJob({ config, runId: 1, runDir: path.join(root, 'run'), datasetDir }, inlineContext(), '')).rejects.toThrow(/needs about .* is available/)
    expect(performance.now() - t0).toBeLessThan(5000)
    expect(process.memoryUsage.rss() - rssBefore).toBeLessThan(100 * 2 ** 20)
    expect(fs.existsSync(path.join(root, 'run', 'checkpoints'))).toBe(false)
  })

  it('gptw train --config refuses a config past memory with exit code 1; --no-memory-check lets a slightly-over one train', () => {
    const dir = tempDir()
    const home = tempDir()
    const file = path.join(dir, 'huge.json')
    fs.writeFileSync(file, JSON.stringify(largest))
    const gptw = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), ...args], { encoding: 'utf8', env: { ...process.env, GPTW_HOME: home, ...env }, timeout: 120_000 })
    const t0 = performance.now()
    const huge = gptw(['train', '--config', file])
    expect(performance.now() - t0).toBeLessThan(10_000)
    expect(huge.status, huge.stderr).toBe(1)
    expect(huge.stderr).toMatch(/needs about [\d.]+ EiB .* smaller batchSize .* --no-memory-check/)

    const smallFile = path.join(dir, 'small.json')
    fs.writeFileSync(smallFile, JSON.stringify(small))
    const limit = { [MEMORY_AVAILABLE_ENV]: String(Math.floor(smallMb * 0.95)) }
    const over = gptw(['train', '--config', smallFile], limit)
    expect(over.status, over.stderr).toBe(1)
    expect(over.stderr).toMatch(/GPTW_MEMORY_AVAILABLE_MB/)
    const forced = gptw(['train', '--config', smallFile, '--no-memory-check', '--json'], limit)
    expect(forced.status, forced.stderr).toBe(0)
    expect(JSON.parse(forced.stdout.trim().split('\n').at(-1)!)).toMatchObject({ done: 'done' })
  }, 180_000)
})

describe('inference and train estimates in the messages', () => {
  it('names each part, in units that stay readable for the largest shapes', () => {
    const huge = trainMemoryProblem(TrainConfig.parse(largest), { bytes: 16 * 2 ** 30, source: 'test' })!
    expect(huge).toMatch(
      /^This config needs about [\d.e+]+ EiB of memory \([\d.e+]+ EiB per device: model state [\d.]+ TiB, activations [\d.e+]+ EiB, logits [\d.]+ PiB, engine 0.31 GiB\) but 16.0 GiB is available \(test\)/
    )
    expect(trainMemoryProblem(TrainConfig.parse({ ...largest, memoryCheck: false }), { bytes: 0, source: 'test' })).toBeNull()
    // Two CPU workers hold two replicas on the same host; GPU devices are not checked here.
    const one = memoryPerDevice(TrainConfig.parse(small)).total
    const two = TrainConfig.parse({ ...small, devices: ['cpu:0', 'cpu:1'] })
    expect(trainMemoryProblem(two, { bytes: one * 1.5, source: 'test' })).toMatch(/x 2 CPU workers.*or fewer CPU devices/)
    expect(trainMemoryProblem(TrainConfig.parse({ ...small, devices: ['gpu:0'] }), { bytes: 0, source: 'test' })).toBeNull()
    const gpt2Small = { nLayer: 12, nHead: 12, nEmbd: 768, nCtx: 1024, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 }
    expect(inferenceMemoryProblem(gpt2Small, 'gpt2', { bytes: 4 * 2 ** 30, source: 'test' })).toBeNull()
    expect(inferenceMemoryProblem(gpt2Small, 'gpt2', { bytes: 2 ** 29, source: 'test' })).toMatch(/^Loading gpt2 needs about [\d.]+ GiB .*weights 0.46 GiB/)
  })
})

describe('GPU devices', () => {
  it("are checked against the PyTorch probe's total memory of each listed GPU; unlisted GPUs are not checked", () => {
    const config = TrainConfig.parse({ ...small, devices: ['gpu:0', 'gpu:1'] })
    const need = memoryPerDevice(config).total
    const gpu = (index: number, bytes: number) => ({ index, name: `Test GPU ${index}`, memoryTotalMiB: Math.floor(bytes / 2 ** 20) })
    expect(gpuMemoryProblem(config, [gpu(0, need * 2), gpu(1, need * 2)])).toBeNull()
    expect(gpuMemoryProblem(config, [gpu(0, need * 2), gpu(1, need / 2)])).toMatch(/but gpu:1 \(Test GPU 1\) has [\d.]+ GiB in all \(PyTorch probe\)\. .*more GPUs/)
    expect(gpuMemoryProblem(config, [])).toBeNull()
    expect(gpuMemoryProblem({ ...config, memoryCheck: false }, [gpu(0, 0), gpu(1, 0)])).toBeNull()
  })
})
