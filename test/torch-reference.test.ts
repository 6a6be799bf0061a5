// The tfjs GPT against PyTorch: the forward (logits, loss) and backward (gradients of named
// tensors) of the committed tiny checkpoint on a fixed batch, compared with the goldens that
// tools/torch_reference.py computed in float64. Tolerance: relative error under 1e-4, measured
// as max |tfjs - torch| / max |torch| per tensor (element-wise ratios blow up near zero).
// Where PyTorch is installed, a checkpoint saved by this engine is also fed back to the script.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { type BackendName, initBackend } from '../src/core/engine/backend'
import { saveCheckpoint, loadCheckpoint } from '../src/core/engine/checkpoint'
import { loadTraining } from '../src/core/engine/checkpoint-tf'
import { type HostTensor, readSafetensors } from '../src/core/engine/safetensors'
import { ROOT, tempDir } from './helpers'

const GOLDENS = path.join(ROOT, 'test', 'goldens')
const TINY_HF = path.join(GOLDENS, 'tiny-gpt-hf')
const GOLDEN = path.join(GOLDENS, 'tiny-gpt.golden.safetensors')
const SCRIPT = path.join(ROOT, 'tools', 'torch_reference.py')
const TOLERANCE = 1e-4

const torchAvailable = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0

function relativeError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length)
  let diff = 0
  let scale = 0
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]))
    scale = Math.max(scale, Math.abs(want[i]))
  }
  return diff / scale
}

interface EngineOutputs {
  logits: Float32Array
  loss: number
  grads: Map<string, Float32Array>
}

/** Logits (real vocabulary columns), loss and gradients of the tfjs model for the golden's batch. */
async function runEngine(checkpoint: string, golden: Map<string, HostTensor>, gradNames: string[]): Promise<EngineOutputs> {
  const { model, config } = loadTraining(checkpoint)
  try {
    const [B, T] = golden.get('inputs')!.shape
    const x = tf.tensor2d(Int32Array.from(golden.get('inputs')!.data), [B, T], 'int32')
    const y = tf.tensor2d(Int32Array.from(golden.get('targets')!.data), [B, T], 'int32')
    const logits = tf.tidy(() => tf.slice(model.logits(x), [0, 0], [B * T, config.vocabSize]))
    const vars = gradNames.map((n) => model.p(n))
    const { value, grads } = tf.variableGrads(() => model.loss(x, y), vars)
    const out: EngineOutputs = {
      logits: await logits.data<'float32'>(),
      loss: (await value.data())[0],
      grads: new Map(await Promise.all(gradNames.map(async (n, i) => [n, await grads[vars[i].name].data<'float32'>()] as const)))
    }
    tf.dispose([x, y, logits, value, ...Object.values(grads)])
    return out
  } finally {
    model.dispose()
  }
}

describe('tfjs GPT against the PyTorch reference', () => {
  const golden = readSafetensors(GOLDEN)
  const gradNames = golden.metadata.grads.split(',')

  for (const backend of ['wasm', 'cpu'] as BackendName[]) {
    it(`matches logits, loss and ${gradNames.length} gradients on the ${backend} backend`, async () => {
      await initBackend(backend)
      expect(tf.getBackend()).toBe(backend)
      const out = await runEngine(TINY_HF, golden.tensors, gradNames)
      const errors: Record<string, number> = {
        logits: relativeError(out.logits, golden.tensors.get('logits')!.data),
        loss: relativeError([out.loss], golden.tensors.get('loss')!.data)
      }
      for (const n of gradNames) errors[`grad ${n}`] = relativeError(out.grads.get(n)!, golden.tensors.get(`grad.${n}`)!.data)
      const over = Object.entries(errors).filter(([, e]) => !(e < TOLERANCE))
      expect(over, JSON.stringify(errors)).toEqual([])
      // The padded vocabulary rows take no gradient: they are never scored.
      expect(
        out.grads
          .get('wte.weight')!
          .subarray(100 * 32)
          .every((g) => Math.abs(g) < 1e-12)
      ).toBe(true)
    })
  }

  it('is sensitive enough to catch a wrong model: reversed position embeddings land far outside the tolerance', async () => {
    // Guard against goldens too weak to tell models apart: the same weights with position
    // embeddings reversed (a realistic indexing bug) must fail the comparison by a wide margin.
    await initBackend('cpu')
    const dir = tempDir()
    const ckpt = loadCheckpoint(TINY_HF)
    const wpe = ckpt.params.get('wpe.weight')!
    const C = wpe.shape[1]
    const rows = Array.from({ length: wpe.shape[0] }, (_, i) => wpe.data.slice(i * C, (i + 1) * C)).reverse()
    ckpt.params.set('wpe.weight', { shape: wpe.shape, data: Float32Array.from(rows.flatMap((r) => [...r])) })
    saveCheckpoint(dir, ckpt)
    const out = await runEngine(dir, golden.tensors, ['ln_f.weight'])
    expect(relativeError(out.logits, golden.tensors.get('logits')!.data)).toBeGreaterThan(100 * TOLERANCE)
    expect(relativeError(out.grads.get('ln_f.weight')!, golden.tensors.get('grad.ln_f.weight')!.data)).toBeGreaterThan(100 * TOLERANCE)
  })

  it.skipIf(!torchAvailable)('PyTorch reads a checkpoint this engine saved and computes the same goldens', () => {
    const dir = tempDir()
    const ours = path.join(dir, 'ours')
    saveCheckpoint(ours, loadCheckpoint(TINY_HF))
    const out = path.join(dir, 'golden.safetensors')
    const meta = golden.metadata
    execFileSync('/usr/bin/python3', [SCRIPT, 'goldens', '--checkpoint', ours, '--out', out, '--batch', meta.batch, '--seq', meta.seq, '--seed', meta.seed, '--grads', meta.grads], { stdio: 'pipe' })
    const again = readSafetensors(out)
    expect(again.metadata.vocab).toBe('100') // config.json's vocab_size is the real vocabulary, not the padded one
    for (const [name, t] of golden.tensors) {
      expect(again.tensors.get(name)!.shape, name).toEqual(t.shape)
      // Computed in float64 and stored as float32: another BLAS build may sum in another order and
      // flip the last float32 bit, so the same goldens means within a few float32 ulps, not bytes.
      expect(relativeError(again.tensors.get(name)!.data, t.data), name).toBeLessThan(1e-6)
    }
    expect(fs.existsSync(out)).toBe(true)
  })
})
