// The PyTorch engine's dtype on the CPU (issue 18): auto runs float32 for scoring and for
// generation alike (bfloat16 is a CUDA choice), and bfloat16 asked on the CPU is refused, saying
// so, never silently run as float32: by the model server, by an eval job (which fails naming it)
// and by a generation load (the model fails to load, naming it). A job on auto says float32 ran.
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { EvalJobSummary } from '../../src/core/eval/job'
import { ModelServer } from '../../src/core/engine/pytorch/model-server'
import { type ModelConfig, parameterCount } from '../../src/shared/config/model'
import type { ApiEvent } from '../../src/shared/api'
import type { GenerationEvent, ModelSession } from '../../src/shared/generate'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { type FixtureServer, startFixtureServer } from '../eval/fixture-server'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch, python } from './helpers'

describeTorch('the PyTorch engine dtype on the CPU', () => {
  let server: FixtureServer
  let w: Workbench
  let ckpt: string
  let config: ModelConfig
  const events: GenerationEvent[] = []
  const saved = { python: process.env.GPTW_PYTHON, pkg: process.env.GPTW_TORCH_PACKAGE_DIR }

  beforeAll(async () => {
    process.env.GPTW_PYTHON = PYTHON
    process.env.GPTW_TORCH_PACKAGE_DIR = PACKAGE_DIR
    server = await startFixtureServer()
    const root = tempDir('gptw-torch-dtype-')
    w = new Workbench({ workspaceRoot: path.join(root, 'ws'), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    w.events.on('event', (e: ApiEvent) => {
      if (e.event === 'generation') events.push(e.data)
    })
    ckpt = path.join(root, 'ckpt', 'step-1')
    config = randomCheckpoint(ckpt, { seed: 31, nCtx: 64 })
  })
  afterAll(async () => {
    await w?.close()
    await server?.close()
    for (const [k, v] of [
      ['GPTW_PYTHON', saved.python],
      ['GPTW_TORCH_PACKAGE_DIR', saved.pkg]
    ] as const) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  })

  const REFUSED = /bfloat16 was asked on the CPU, which runs the PyTorch engine in float32 only: ask float32 or auto there/

  it('the model server: auto is float32 for scoring and generation, bfloat16 is refused', async () => {
    for (const purpose of ['score', 'generate'] as const) {
      const s = await ModelServer.start({ checkpoint: ckpt, device: 'cpu:0', dtype: 'auto', purpose, python: PYTHON, packageDir: PACKAGE_DIR })
      expect(s.info.dtype).toBe('float32')
      // the weights' bytes are counted from the loaded tensors: 4 a parameter in float32
      expect(s.info.weightBytes).toBe(parameterCount(s.info) * 4)
      await s.close()
    }
    await expect(ModelServer.start({ checkpoint: ckpt, device: 'cpu:0', dtype: 'bfloat16', purpose: 'generate', python: PYTHON, packageDir: PACKAGE_DIR })).rejects.toThrow(REFUSED)
  })

  it("the weights' bytes the server reports follow the dtype: bfloat16 takes 2 a parameter", () => {
    // bfloat16 cannot be loaded on the CPU, so the server's own count runs on its float32 model
    // cast to bfloat16 (a CUDA load casts the same way: model.to(device, dtype))
    const code = [
      'import json, sys, torch',
      'from gptw_torch.serve import ModelServer, weight_bytes',
      'm = ModelServer(sys.argv[1], "cpu", "float32", 1).model',
      'print(json.dumps({"float32": weight_bytes(m), "bfloat16": weight_bytes(m.to(torch.bfloat16)), "parameters": sum(p.numel() for p in m.parameters())}))'
    ].join('\n')
    const got = JSON.parse(python(['-c', code, ckpt]).stdout.trim()) as { float32: number; bfloat16: number; parameters: number }
    expect(got.parameters).toBe(parameterCount(config))
    expect(got).toMatchObject({ float32: got.parameters * 4, bfloat16: got.parameters * 2 })
  })

  it('an eval job: auto reports float32 in its result and log; bfloat16 fails the job naming why', async () => {
    const start = async (dtype: 'auto' | 'bfloat16') => {
      const reply = await w.call('jobs.start', {
        kind: 'eval',
        params: { checkpoints: [ckpt], tasks: ['copa'], limit: 1, batchSize: 4, bootstrapIters: 100, engine: 'pytorch', devices: ['cpu:0'], dtype, sources: server.sources }
      })
      if (!reply.ok) throw new Error(reply.error.message)
      return w.supervisor.waitForExit(reply.value.id)
    }
    const auto = await start('auto')
    expect(auto.state, auto.error ?? '').toBe('done')
    expect((auto.result as EvalJobSummary).engine).toEqual({ name: 'pytorch', detail: expect.stringMatching(/^cpu, float32; torch \d/), dtype: 'float32' })
    expect(w.jobs.logs(auto.id).map((l) => l.text)).toContainEqual(expect.stringMatching(/PyTorch engine on cpu, float32; torch/))

    const bf16 = await start('bfloat16')
    expect(bf16.state).toBe('failed')
    expect(bf16.error).toMatch(REFUSED)
  })

  it('a generation load in bfloat16 on the CPU fails, naming why', async () => {
    const reply = await w.call('generate.load', { checkpoint: ckpt, engine: 'pytorch', device: 'cpu:0', dtype: 'bfloat16' })
    if (!reply.ok) throw new Error(reply.error.message)
    const s = await waitFor(
      () => events.find((e): e is Extract<GenerationEvent, { type: 'model' }> => e.type === 'model' && e.session.jobId === reply.value.jobId && e.session.state === 'failed')?.session,
      60_000,
      'the load to fail'
    )
    expect((s as ModelSession).error).toMatch(REFUSED)
  })
})
