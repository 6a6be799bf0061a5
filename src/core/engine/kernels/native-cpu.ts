// Native kernels registered on tfjs's `cpu` backend: BatchMatMul and _FusedMatMul run on the
// project's GEMM (packed, AVX-512 or AVX2/FMA, all cores). Cases outside what the GEMM handles (partial
// batch broadcasting, fused activations) go to the stock kernel, kept as the fallback.
import * as tf from '@tensorflow/tfjs'
import { unzeroed } from '../cpu-memory'
import type { NativeKernels } from '../native'

interface CpuBackendLike {
  data: { get(id: unknown): { values: Float32Array } }
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): tf.TensorInfo
}

type MatMulArgs = {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo; bias?: tf.TensorInfo; preluActivationWeights?: tf.TensorInfo }
  attrs: { transposeA: boolean; transposeB: boolean; activation?: string }
  backend: CpuBackendLike
}

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** C = op(A) op(B) (+ bias [n], added to each finished element) natively, or null when the shapes need broadcasting the GEMM does not do. */
function nativeMatMul(native: NativeKernels, { inputs: { a, b }, attrs, backend }: MatMulArgs, bias?: Float32Array): tf.TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const ra = a.shape.length
  const rb = b.shape.length
  const m = attrs.transposeA ? a.shape[ra - 1] : a.shape[ra - 2]
  const k = attrs.transposeA ? a.shape[ra - 2] : a.shape[ra - 1]
  const n = attrs.transposeB ? b.shape[rb - 2] : b.shape[rb - 1]
  const batchA = size(a.shape.slice(0, -2))
  const batchB = size(b.shape.slice(0, -2))
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null
  const outer = batchA >= batchB ? a.shape.slice(0, -2) : b.shape.slice(0, -2)
  if (batchA === batchB && ra !== rb) return null
  const batch = Math.max(batchA, batchB)
  const out = unzeroed(batch * m * n) // every element written (k = 0 included: the GEMM then writes zeros)
  const av = backend.data.get(a.dataId).values
  const bv = backend.data.get(b.dataId).values
  native.batchMatMul(attrs.transposeA, attrs.transposeB, batch, m, n, k, av, batchA === 1 ? 0 : m * k, bv, batchB === 1 ? 0 : k * n, out, false, batch === 1 ? bias : undefined)
  // A batched product's bias (the GEMM takes one for batch 1 only), added afterwards: the same bits.
  if (bias && batch !== 1) for (let i = 0; i < out.length; i += n) for (let j = 0; j < n; j++) out[i + j] += bias[j]
  return backend.makeTensorInfo([...outer, m, n], 'float32', out)
}

let stock: { batch: tf.KernelConfig; fused: tf.KernelConfig } | null = null

/** Puts tfjs's own cpu kernels back (the plain `cpu` rung is the reference implementation). */
export function restoreStockCpuKernels(): void {
  if (!stock) return
  for (const config of [stock.batch, stock.fused]) {
    tf.unregisterKernel(config.kernelName, 'cpu')
    tf.registerKernel(config)
  }
  stock = null
}

export function registerNativeCpuKernels(native: NativeKernels): void {
  if (stock) return
  const stockBatch = tf.getKernel('BatchMatMul', 'cpu')
  const stockFused = tf.getKernel('_FusedMatMul', 'cpu')
  if (!stockBatch || !stockFused) throw new Error('tfjs cpu backend kernels are missing: cannot install the native GEMM')
  stock = { batch: stockBatch, fused: stockFused }
  tf.unregisterKernel('BatchMatMul', 'cpu')
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'cpu',
    kernelFunc: ((args: MatMulArgs) => nativeMatMul(native, args) ?? stockBatch.kernelFunc(args as never)) as unknown as tf.KernelFunc
  })
  tf.unregisterKernel('_FusedMatMul', 'cpu')
  tf.registerKernel({
    kernelName: '_FusedMatMul',
    backendName: 'cpu',
    kernelFunc: ((args: MatMulArgs) => {
      const plain = !args.attrs.activation || args.attrs.activation === 'linear'
      const cols = args.attrs.transposeB ? args.inputs.b.shape[args.inputs.b.shape.length - 2] : args.inputs.b.shape[args.inputs.b.shape.length - 1]
      const biasFits = !args.inputs.bias || size(args.inputs.bias.shape) === cols
      // The bias is added inside the GEMM as each element is finished (the bits of adding it
      // afterwards), not in a second single-threaded JavaScript pass over the output.
      const bias = args.inputs.bias && args.inputs.bias.dtype === 'float32' ? args.backend.data.get(args.inputs.bias.dataId).values : undefined
      const out = plain && biasFits && !args.inputs.preluActivationWeights && (bias || !args.inputs.bias) ? nativeMatMul(native, args, bias) : null
      return out ?? stockFused.kernelFunc(args as never)
    }) as unknown as tf.KernelFunc
  })
}
