// UnsortedSegmentSum for the wasm backend, which lacks it. tf.gather's gradient (the embedding
// backward pass) is built on it: out[segmentIds[i], ...] += x[i, ...]; ids outside
// [0, numSegments) are dropped, as TensorFlow does.
import type { TensorInfo } from '@tensorflow/tfjs'

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32'): TensorInfo
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array
}

export function wasmUnsortedSegmentSum(args: { inputs: { x: TensorInfo; segmentIds: TensorInfo }; attrs: { numSegments: number }; backend: WasmBackendLike }): TensorInfo {
  const { x, segmentIds } = args.inputs
  const { numSegments } = args.attrs
  const inner = x.shape.slice(segmentIds.shape.length).reduce((a, b) => a * b, 1)
  const outShape = [numSegments, ...x.shape.slice(segmentIds.shape.length)]
  const out = args.backend.makeOutput(outShape, x.dtype as 'float32' | 'int32')
  // Views are taken after the allocation: growing the heap detaches earlier views.
  const outVals = args.backend.typedArrayFromHeap(out)
  const xVals = args.backend.typedArrayFromHeap(x)
  const ids = args.backend.typedArrayFromHeap(segmentIds)
  outVals.fill(0)
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]
    if (id < 0 || id >= numSegments) continue
    const src = i * inner
    const dst = id * inner
    for (let j = 0; j < inner; j++) outVals[dst + j] += xVals[src + j]
  }
  return out
}
