// Faster JavaScript for tfjs cpu-backend kernels the GPT step leans on, whose stock versions
// compute a full index per element: binary ops where one operand repeats along the leading axes
// (the position embedding, the attention mask), transposes (the attention head shuffles) and
// UnsortedSegmentSum (the embedding gradient, which the stock kernel does once per vocab entry).
// Other shapes go to the stock kernels, kept as fallbacks.
import * as tf from '@tensorflow/tfjs'

interface CpuBackendLike {
  data: { get(id: unknown): { values: Float32Array | Int32Array } }
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array | Int32Array): tf.TensorInfo
}
type Binary = (a: number, b: number) => number
type BinaryArgs = { inputs: { a: tf.TensorInfo; b: tf.TensorInfo }; backend: CpuBackendLike }
type TransposeArgs = { inputs: { x: tf.TensorInfo }; attrs: { perm: number[] }; backend: CpuBackendLike }

const BINARY: Record<string, Binary> = {
  Add: (a, b) => a + b,
  Sub: (a, b) => a - b,
  Multiply: (a, b) => a * b,
  RealDiv: (a, b) => a / b
}

const size = (shape: number[]): number => shape.reduce((x, y) => x * y, 1)

/** True when `small` equals the trailing dims of `big` (leading 1s in `small` ignored). */
function isTrailing(small: number[], big: number[]): boolean {
  const s = small.slice(small.findIndex((d) => d !== 1) < 0 ? small.length : small.findIndex((d) => d !== 1))
  if (s.length > big.length) return false
  return s.every((d, i) => d === big[big.length - s.length + i])
}

function fastBinary(name: string, op: Binary, args: BinaryArgs): tf.TensorInfo | null {
  const { a, b } = args.inputs
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return null
  const av = args.backend.data.get(a.dataId).values
  const bv = args.backend.data.get(b.dataId).values
  const na = av.length
  const nb = bv.length
  let out: Float32Array
  let shape: number[]
  if (na >= nb && isTrailing(b.shape, a.shape) && na % nb === 0) {
    shape = a.shape.length >= b.shape.length ? a.shape : b.shape
    out = new Float32Array(na)
    for (let i = 0; i < na; i += nb) for (let j = 0; j < nb; j++) out[i + j] = op(av[i + j], bv[j])
  } else if (nb > na && isTrailing(a.shape, b.shape) && nb % na === 0) {
    shape = b.shape
    out = new Float32Array(nb)
    for (let i = 0; i < nb; i += na) for (let j = 0; j < na; j++) out[i + j] = op(av[j], bv[i + j])
  } else return null
  if (size(shape) !== out.length) return null
  void name
  return args.backend.makeTensorInfo(shape, 'float32', out)
}

/** Transpose by walking the output in order with an odometer over the input strides. */
function fastTranspose({ inputs: { x }, attrs: { perm }, backend }: TransposeArgs): tf.TensorInfo | null {
  const rank = x.shape.length
  if (rank < 2 || rank > 6) return null
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

let stock: tf.KernelConfig[] | null = null

export function registerFastCpuKernels(): void {
  if (stock) return
  stock = []
  for (const [name, op] of Object.entries(BINARY)) {
    const original = tf.getKernel(name, 'cpu')
    if (!original) continue
    stock.push(original)
    tf.unregisterKernel(name, 'cpu')
    tf.registerKernel({ kernelName: name, backendName: 'cpu', kernelFunc: ((args: BinaryArgs) => fastBinary(name, op, args) ?? original.kernelFunc(args as never)) as unknown as tf.KernelFunc })
  }
  const segment = tf.getKernel('UnsortedSegmentSum', 'cpu')
  if (segment) {
    stock.push(segment)
    tf.unregisterKernel('UnsortedSegmentSum', 'cpu')
    tf.registerKernel({ kernelName: 'UnsortedSegmentSum', backendName: 'cpu', kernelFunc: ((args: SegmentArgs) => fastUnsortedSegmentSum(args) ?? segment.kernelFunc(args as never)) as unknown as tf.KernelFunc })
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
