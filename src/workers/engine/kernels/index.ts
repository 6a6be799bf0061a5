// Kernels the project registers on tfjs backends: ones the stock backend lacks for training.
import * as tf from '@tensorflow/tfjs'
import { wasmUnsortedSegmentSum } from './unsorted-segment-sum-wasm'

const registered = new Set<string>()

export function registerProjectKernels(backendName: string): void {
  if (registered.has(backendName)) return
  registered.add(backendName)
  if (backendName === 'wasm' && !tf.getKernel('UnsortedSegmentSum', 'wasm')) {
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'wasm', kernelFunc: wasmUnsortedSegmentSum as unknown as tf.KernelFunc })
  }
}
