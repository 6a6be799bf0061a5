// The backend ladder: tfjs-node-gpu (CUDA), tfjs-node (libtensorflow on the CPU), then the
// embedded CPU path: `native` (tfjs's cpu backend with the project's native kernels: GEMM,
// fused cross-entropy, LayerNorm, GELU, AdamW), `wasm` (XNNPACK plus the project's kernels),
// then plain `cpu`.
// The optional tfjs-node packages are absent where their libtensorflow download failed, so each
// rung is tried inside try/catch. GPTW_BACKEND (or the caller) can pick a rung.
// tfjs's cpu backend prints a "Hi, looks like you are running TensorFlow.js in Node.js" banner on
// its first tensor, which became the "last output" of every failed worker: it is silenced (the
// supervisor already logs the chosen backend once, from the worker's backend message).
import { createRequire } from 'node:module'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm'
import { registerProjectKernels } from './kernels'
import { loadNative } from './native'

export const BACKEND_NAMES = ['tensorflow-gpu', 'tensorflow', 'native', 'wasm', 'cpu'] as const
export type BackendName = (typeof BACKEND_NAMES)[number]

export interface BackendReport {
  name: BackendName
  /** tfjs's own name for it ('tensorflow', 'wasm', 'cpu'). */
  tfjsBackend: string
  detail: string
  /** Rungs tried before this one and why they were passed over. */
  skipped: { name: BackendName; reason: string }[]
}

let chosen: BackendReport | null = null

async function tryNodeBinding(pkg: string): Promise<string> {
  // A failed optional install removes the package: resolve it at run time, inside try/catch.
  createRequire(__filename)(pkg)
  if (!(await tf.setBackend('tensorflow'))) throw new Error('tfjs refused the tensorflow backend')
  return pkg
}

async function tryRung(name: BackendName): Promise<string> {
  switch (name) {
    case 'tensorflow-gpu':
      if (process.env.CUDA_VISIBLE_DEVICES === '') throw new Error('no GPU assigned to this process')
      return tryNodeBinding('@tensorflow/tfjs-node-gpu')
    case 'tensorflow':
      return tryNodeBinding('@tensorflow/tfjs-node')
    case 'wasm': {
      setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep)
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise')
      const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT')
      return `XNNPACK, SIMD ${simd ? 'on' : 'off'}, threads ${tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? 'on' : 'off'}`
    }
    case 'native': {
      const { kernels, reason } = loadNative()
      if (!kernels) throw new Error(reason)
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise')
      registerProjectKernels('cpu', kernels)
      const info = kernels.info()
      return `project kernels, ${info.avx512 ? 'AVX-512' : info.avx2 ? 'AVX2/FMA' : 'portable C++'}, ${info.threads} thread${info.threads === 1 ? '' : 's'}`
    }
    case 'cpu':
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise')
      return 'plain JavaScript kernels'
  }
}

/**
 * Picks the first backend on the ladder that works (or exactly `preferred` when given) and
 * registers the project's kernels for it. Idempotent within a process.
 */
export async function initBackend(preferred: BackendName | 'auto' = (process.env.GPTW_BACKEND as BackendName | undefined) ?? 'auto'): Promise<BackendReport> {
  if (chosen && (preferred === 'auto' || preferred === chosen.name)) return chosen
  if (preferred !== 'auto' && !BACKEND_NAMES.includes(preferred)) {
    throw new Error(`Unknown backend "${preferred}". Choose one of: auto, ${BACKEND_NAMES.join(', ')}.`)
  }
  const ladder = preferred === 'auto' ? BACKEND_NAMES : [preferred]
  const skipped: BackendReport['skipped'] = []
  for (const name of ladder) {
    try {
      const detail = await tryRung(name)
      await tf.ready()
      if (name !== 'native') registerProjectKernels(tf.getBackend())
      silenceNodeBanner()
      chosen = { name, tfjsBackend: tf.getBackend(), detail, skipped }
      return chosen
    } catch (err) {
      skipped.push({ name, reason: (err as Error).message.split('\n')[0] })
    }
  }
  throw new Error(`No compute backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`)
}

/** The cpu backend warns on its first write unless told it has been used (tfjs has no flag for just this banner). */
function silenceNodeBanner(): void {
  const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null
  if (cpu?.firstUse) cpu.firstUse = false
}

export function describeBackend(report: BackendReport): string {
  return `${report.name} (${report.detail})`
}
