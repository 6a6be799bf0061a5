// Faster JavaScript for tfjs cpu-backend kernels the GPT step leans on, whose stock versions
// compute a full index per element: binary ops where one operand repeats (the position
// embedding, the attention mask, softmax's gradient), transposes (the attention head shuffles),
// sums over leading or trailing axes (bias gradients), softmax, UnsortedSegmentSum (the
// embedding gradient, which the stock kernel does once per vocabulary entry) and the embedding
// lookup (GatherV2 along axis 0, whole rows copied).
// Other shapes go to the stock kernels, kept as fallbacks.
import * as tf from '@tensorflow/tfjs'
import type { NativeKernels } from '../native'

interface CpuBackendLike {
  data: { get(id: unknown): { values: Float32Array | Int32Array } }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo
  incRef(dataId: tf.DataId): void
}
type BinaryArgs = { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: CpuBackendLike }
type TransposeArgs = { inputs: { x: tf.TensorInfo }; attrs: { perm: number[] }; backend: CpuBackendLike }
type Op = 'Add' | 'Sub' | 'Multiply' | 'RealDiv'

const OPS: Op[] = ['Add', 'Sub', 'Multiply', 'RealDiv']

const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1)

/** True when `small` equals the trailing dims of `big` (leading 1s in `small` ignored). */
function isTrailing(small: number[], big: number[]): boolean {
  const first = small.findIndex((d) => d !== 1)
  const s = first < 0 ? [] : small.slice(first)
  if (s.length > big.length) return false
  return s.every((d, i) => d === big[big.length - s.length + i])
}

/**
 * out[i] = a[i] op b[i mod nb] (or, swapped, b repeating a). One loop per op, written out, so
 * each stays monomorphic and fast (a closure per element was the stock cost).
 */
function repeatOp(op: Op, big: Float32Array | Int32Array, small: Float32Array | Int32Array, smallFirst: boolean, out: Float32Array): void {
  const n = big.length
  const m = small.length
  for (let i = 0; i < n; i += m) {
    const end = Math.min(m, n - i)
    if (m === 1) {
      const b = small[0]
      if (smallFirst) {
        if (op === 'Add') for (let j = 0; j < n; j++) out[j] = b + big[j]
        else if (op === 'Sub') for (let j = 0; j < n; j++) out[j] = b - big[j]
        else if (op === 'Multiply') for (let j = 0; j < n; j++) out[j] = b * big[j]
        else for (let j = 0; j < n; j++) out[j] = b / big[j]
      } else {
        if (op === 'Add') for (let j = 0; j < n; j++) out[j] = big[j] + b
        else if (op === 'Sub') for (let j = 0; j < n; j++) out[j] = big[j] - b
        else if (op === 'Multiply') for (let j = 0; j < n; j++) out[j] = big[j] * b
        else for (let j = 0; j < n; j++) out[j] = big[j] / b
      }
      return
    }
    if (smallFirst) {
      if (op === 'Add') for (let j = 0; j < end; j++) out[i + j] = small[j] + big[i + j]
      else if (op === 'Sub') for (let j = 0; j < end; j++) out[i + j] = small[j] - big[i + j]
      else if (op === 'Multiply') for (let j = 0; j < end; j++) out[i + j] = small[j] * big[i + j]
      else for (let j = 0; j < end; j++) out[i + j] = small[j] / big[i + j]
    } else {
      if (op === 'Add') for (let j = 0; j < end; j++) out[i + j] = big[i + j] + small[j]
      else if (op === 'Sub') for (let j = 0; j < end; j++) out[i + j] = big[i + j] - small[j]
      else if (op === 'Multiply') for (let j = 0; j < end; j++) out[i + j] = big[i + j] * small[j]
      else for (let j = 0; j < end; j++) out[i + j] = big[i + j] / small[j]
    }
  }
}

/** How many times each element of `small` repeats in a row, when `small` is `big`'s shape with trailing 1s (e.g. [32,128,1] vs [32,128,128]). */
function rowRepeat(small: number[], big: number[]): number {
  if (small.length !== big.length) return 0
  let k = small.length
  while (k > 0 && small[k - 1] === 1 && big[k - 1] !== 1) k--
  if (k === small.length) return 0
  for (let d = 0; d < k; d++) if (small[d] !== big[d]) return 0
  return size(big.slice(k))
}

/** out[i] = a[i] op b[floor(i / inner)] (or with the operands swapped). */
function rowRepeatOp(op: Op, big: Float32Array | Int32Array, small: Float32Array | Int32Array, inner: number, smallFirst: boolean, out: Float32Array): void {
  for (let r = 0, i = 0; r < small.length; r++, i += inner) {
    const c = small[r]
    const end = i + inner
    if (smallFirst) {
      if (op === 'Add') for (let j = i; j < end; j++) out[j] = c + big[j]
      else if (op === 'Sub') for (let j = i; j < end; j++) out[j] = c - big[j]
      else if (op === 'Multiply') for (let j = i; j < end; j++) out[j] = c * big[j]
      else for (let j = i; j < end; j++) out[j] = c / big[j]
    } else {
      if (op === 'Add') for (let j = i; j < end; j++) out[j] = big[j] + c
      else if (op === 'Sub') for (let j = i; j < end; j++) out[j] = big[j] - c
      else if (op === 'Multiply') for (let j = i; j < end; j++) out[j] = big[j] * c
      else for (let j = i; j < end; j++) out[j] = big[j] / c
    }
  }
}

function fastBinary(op: Op, args: BinaryArgs, native: NativeKernels | null): tf.TensorInfo | null {
  const { a, b } = args.inputs
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const av = args.backend.data.get(a.dataId).values
  const bv = args.backend.data.get(b.dataId).values
  if (!av.length || !bv.length) return null
  // Same shapes (the residual adds): the native add on all threads when the addon is there.
  if (native && op === 'Add' && a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i])) {
    const out = new Float32Array(av.length)
    native.add(av as Float32Array, bv as Float32Array, out)
    return args.backend.makeTensorInfo(a.shape, 'float32', out)
  }
  const aRows = rowRepeat(a.shape, b.shape)
  if (aRows) {
    const out = new Float32Array(bv.length)
    rowRepeatOp(op, bv, av, aRows, true, out)
    return args.backend.makeTensorInfo(b.shape, 'float32', out)
  }
  const bRows = rowRepeat(b.shape, a.shape)
  if (bRows) {
    const out = new Float32Array(av.length)
    rowRepeatOp(op, av, bv, bRows, false, out)
    return args.backend.makeTensorInfo(a.shape, 'float32', out)
  }
  if (av.length >= bv.length && isTrailing(b.shape, a.shape) && av.length % Math.max(bv.length, 1) === 0) {
    const shape = a.shape.length >= b.shape.length ? a.shape : b.shape
    if (size(shape) !== av.length) return null
    const out = new Float32Array(av.length)
    repeatOp(op, av, bv, false, out)
    return args.backend.makeTensorInfo(shape, 'float32', out)
  }
  if (bv.length > av.length && isTrailing(a.shape, b.shape) && bv.length % Math.max(av.length, 1) === 0) {
    const out = new Float32Array(bv.length)
    repeatOp(op, bv, av, true, out)
    return args.backend.makeTensorInfo(b.shape, 'float32', out)
  }
  return null
}

/** Transpose by walking the output in order with an odometer over the input strides. */
function fastTranspose({ inputs: { x }, attrs: { perm }, backend }: TransposeArgs): tf.TensorInfo | null {
  const rank = x.shape.length
  if (rank < 2 || rank > 6) return null
  // The identity permutation (the embedding gradient goes through two, the second on the whole
  // [vocab, C] table): the same storage, shared as the Identity kernel shares it, not a copy.
  if (perm.every((p, i) => p === i)) {
    backend.incRef(x.dataId)
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  }
  const src = backend.data.get(x.dataId).values
  const inStrides = new Array<number>(rank)
  inStrides[rank - 1] = 1
  for (let d = rank - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1] * x.shape[d + 1]
  const outShape = perm.map((p) => x.shape[p])
  const stride = perm.map((p) => inStrides[p]) // input step for each output axis
  const out = src instanceof Int32Array ? new Int32Array(src.length) : new Float32Array(src.length)
  const last = rank - 1
  const innerLen = outShape[last]
  const innerStride = stride[last]
  const idx = new Array<number>(rank).fill(0)
  let base = 0
  for (let o = 0; o < out.length; o += innerLen) {
    for (let j = 0, s = base; j < innerLen; j++, s += innerStride) out[o + j] = src[s]
    // advance the odometer over the outer output axes
    for (let d = last - 1; d >= 0; d--) {
      idx[d]++
      base += stride[d]
      if (idx[d] < outShape[d]) break
      base -= stride[d] * outShape[d]
      idx[d] = 0
    }
  }
  return backend.makeTensorInfo(outShape, x.dtype, out)
}

type SegmentArgs = { inputs: { x: tf.TensorInfo; segmentIds: tf.TensorInfo }; attrs: { numSegments: number }; backend: CpuBackendLike }

/** The embedding gradient: one pass over the rows (the stock kernel builds a mask per segment). */
function fastUnsortedSegmentSum({ inputs: { x, segmentIds }, attrs: { numSegments }, backend }: SegmentArgs): tf.TensorInfo | null {
  if (x.dtype !== 'float32') return null
  const xv = backend.data.get(x.dataId).values
  const ids = backend.data.get(segmentIds.dataId).values
  const inner = size(x.shape.slice(segmentIds.shape.length))
  const out = new Float32Array(numSegments * inner)
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (id < 0 || id >= numSegments) continue
    for (let j = 0, src = i * inner, dst = id * inner; j < inner; j++) out[dst + j] += xv[src + j]
  }
  return backend.makeTensorInfo([numSegments, ...x.shape.slice(segmentIds.shape.length)], 'float32', out)
}

type GatherArgs = { inputs: { x: tf.TensorInfo; indices: tf.TensorInfo }; attrs: { axis: number; batchDims?: number }; backend: CpuBackendLike }

/** Rows of x picked along axis 0 (the token embedding lookup): whole rows copied, not an index computed per element. Out-of-range ids go to the stock kernel, which names them. */
function fastGather({ inputs: { x, indices }, attrs: { axis, batchDims }, backend }: GatherArgs): tf.TensorInfo | null {
  if ((axis !== 0 && axis !== -x.shape.length) || (batchDims ?? 0) !== 0 || x.shape.length < 1 || indices.dtype !== 'int32' || x.dtype === 'string') return null
  const xv = backend.data.get(x.dataId).values
  const ids = backend.data.get(indices.dataId).values
  const rows = x.shape[0]
  const row = size(x.shape.slice(1))
  for (let i = 0; i < ids.length; i++) if (!(ids[i] >= 0 && ids[i] < rows)) return null
  const out = xv instanceof Int32Array ? new Int32Array(ids.length * row) : new Float32Array(ids.length * row)
  for (let i = 0; i < ids.length; i++) out.set(xv.subarray(ids[i] * row, (ids[i] + 1) * row), i * row)
  return backend.makeTensorInfo([...indices.shape, ...x.shape.slice(1)], x.dtype, out)
}

type SoftmaxArgs = { inputs: { logits: tf.TensorInfo }; attrs: { dim: number }; backend: CpuBackendLike }

/** Softmax over the last axis, row by row (the stock kernel goes through broadcast ops). */
function fastSoftmax({ inputs: { logits }, attrs: { dim }, backend }: SoftmaxArgs): tf.TensorInfo | null {
  const rank = logits.shape.length
  if (logits.dtype !== 'float32' || (dim !== -1 && dim !== rank - 1)) return null
  const x = backend.data.get(logits.dataId).values
  const cols = logits.shape[rank - 1]
  const out = new Float32Array(x.length)
  for (let i = 0; i < x.length; i += cols) {
    let max = -Infinity
    for (let j = i; j < i + cols; j++) if (x[j] > max) max = x[j]
    let sum = 0
    for (let j = i; j < i + cols; j++) sum += out[j] = Math.exp(x[j] - max)
    const inv = 1 / sum
    for (let j = i; j < i + cols; j++) out[j] *= inv
  }
  return backend.makeTensorInfo(logits.shape, 'float32', out)
}

type SumArgs = { inputs: { x: tf.TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean }; backend: CpuBackendLike }

/** Sums over leading axes (bias gradients) or trailing axes, without the stock kernel's transpose. */
function fastSum({ inputs: { x }, attrs, backend }: SumArgs): tf.TensorInfo | null {
  if (x.dtype !== 'float32') return null
  const rank = x.shape.length
  const axes = [...new Set((Array.isArray(attrs.axis) ? attrs.axis : [attrs.axis]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q)
  if (!axes.length || axes.some((a, i) => a !== axes[0] + i)) return null
  const leading = axes[0] === 0
  const trailing = axes[axes.length - 1] === rank - 1
  if (!leading && !trailing) return null
  const v = backend.data.get(x.dataId).values
  const kept = x.shape.filter((_, d) => !axes.includes(d))
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept
  const inner = size(kept)
  const out = new Float32Array(inner)
  if (leading) {
    for (let i = 0; i < v.length; i += inner) for (let j = 0; j < inner; j++) out[j] += v[i + j]
  } else {
    const span = v.length / Math.max(inner, 1)
    for (let r = 0; r < inner; r++) {
      let sum = 0
      for (let j = r * span; j < (r + 1) * span; j++) sum += v[j]
      out[r] = sum
    }
  }
  return backend.makeTensorInfo(outShape, 'float32', out)
}

let stock: tf.KernelConfig[] | null = null

/** Registers the faster kernels; `native` (the addon, when built) takes the same-shape Add. */
export function registerFastCpuKernels(native: NativeKernels | null = null): void {
  if (stock) return
  stock = []
  for (const op of OPS) {
    const original = tf.getKernel(op, 'cpu')
    if (!original) continue
    stock.push(original)
    tf.unregisterKernel(op, 'cpu')
    tf.registerKernel({ kernelName: op, backendName: 'cpu', kernelFunc: ((args: BinaryArgs) => fastBinary(op, args, native) ?? original.kernelFunc(args as never)) as unknown as tf.KernelFunc })
  }
  for (const [name, fast] of [
    ['Softmax', fastSoftmax],
    ['Sum', fastSum],
    ['GatherV2', fastGather]
  ] as const) {
    const original = tf.getKernel(name, 'cpu')
    if (!original) continue
    stock.push(original)
    tf.unregisterKernel(name, 'cpu')
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: ((args: never) => fast(args) ?? original.kernelFunc(args)) as unknown as tf.KernelFunc })
  }
  const segment = tf.getKernel('UnsortedSegmentSum', 'cpu')
  if (segment) {
    stock.push(segment)
    tf.unregisterKernel('UnsortedSegmentSum', 'cpu')
    tf.registerKernel({
      kernelName: 'UnsortedSegmentSum',
      backendName: 'cpu',
      kernelFunc: ((args: SegmentArgs) => fastUnsortedSegmentSum(args) ?? segment.kernelFunc(args as never)) as unknown as tf.KernelFunc
    })
  }
  const transpose = tf.getKernel('Transpose', 'cpu')
  if (transpose) {
    stock.push(transpose)
    tf.unregisterKernel('Transpose', 'cpu')
    tf.registerKernel({ kernelName: 'Transpose', backendName: 'cpu', kernelFunc: ((args: TransposeArgs) => fastTranspose(args) ?? transpose.kernelFunc(args as never)) as unknown as tf.KernelFunc })
  }
}

export function restoreStockCpuJsKernels(): void {
  for (const config of stock ?? []) {
    tf.unregisterKernel(config.kernelName, 'cpu')
    tf.registerKernel(config)
  }
  stock = null
}
