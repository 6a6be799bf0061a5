// Kernels the project registers on tfjs backends: ones the stock backend lacks for training
// (UnsortedSegmentSum on wasm) and, on the `native` rung, the native GEMM under the cpu backend.
// The same registration picks the model's kernel set (ops.ts's Kernels): native-ops.ts on the
// `native` rung, tfjs-ops.ts everywhere else.
import * as tf from '@tensorflow/tfjs'
import type { NativeKernels } from '../native'
import type { Kernels } from '../ops'
import { registerFastCpuKernels, restoreStockCpuJsKernels } from './cpu-fast-js'
import { nativeModelKernels } from './native-ops'
import { registerNativeCpuKernels, restoreStockCpuKernels } from './native-cpu'
import { tfjsKernels } from './tfjs-ops'
import { wasmUnsortedSegmentSum } from './unsorted-segment-sum-wasm'

const registered = new Set<string>()
let active: { native: NativeKernels; model: Kernels } | null = null

export function registerProjectKernels(backendName: string, native: NativeKernels | null = null): void {
  if (backendName === 'wasm' && !registered.has('wasm') && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: wasmUnsortedSegmentSum as unknown as tf.KernelFunc })
  }
  if (backendName === 'cpu' && native) {
    registerNativeCpuKernels(native)
    registerFastCpuKernels(native)
    if (active?.native !== native) active = { native, model: nativeModelKernels(native) }
  } else if (backendName === 'cpu') {
    restoreStockCpuKernels()
    restoreStockCpuJsKernels()
    active = null
  }
  registered.add(backendName)
}

/** The native kernels when they back the current tfjs backend, else null (ops use tfjs ops). */
export function nativeKernels(): NativeKernels | null {
  return active && tf.getBackend() === 'cpu' ? active.native : null
}

/** The model's kernel set for the current backend (the native one only while the native addon backs it). */
export function kernels(): Kernels {
  return active && tf.getBackend() === 'cpu' ? active.model : tfjsKernels
}
