// Kernels the project registers on tfjs backends: ones the stock backend lacks for training
// (UnsortedSegmentSum on wasm) and, on the `native` rung, the native GEMM under the cpu backend.
import * as tf from '@tensorflow/tfjs'
import type { NativeKernels } from '../native'
import { registerFastCpuKernels, restoreStockCpuJsKernels } from './cpu-fast-js'
import { registerNativeCpuKernels, restoreStockCpuKernels } from './native-cpu'
import { wasmUnsortedSegmentSum } from './unsorted-segment-sum-wasm'

const registered = new Set<string>()
let active: NativeKernels | null = null

export function registerProjectKernels(backendName: string, native: NativeKernels | null = null): void {
  if (backendName === 'wasm' && !registered.has('wasm') && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: wasmUnsortedSegmentSum as unknown as tf.KernelFunc })
  }
  if (backendName === 'cpu' && native) {
    registerNativeCpuKernels(native)
    registerFastCpuKernels()
    active = native
  } else if (backendName === 'cpu') {
    restoreStockCpuKernels()
    restoreStockCpuJsKernels()
    active = null
  }
  registered.add(backendName)
}

/** The native kernels when they back the current tfjs backend, else null (ops use tfjs ops). */
export function nativeKernels(): NativeKernels | null {
  return active && tf.getBackend() === 'cpu' ? active : null
}
