// Reverse-mode gradients over tfjs's tape that free memory as the backward goes. tfjs's own
// engine.gradients keeps every tensor a node saved for its gradient, and every intermediate
// gradient, until the whole backward pass is over, so its peak is all activations plus all their
// gradients. This walks the same tape in the same order with the same accumulation (so the
// gradients are identical, bit for bit) but disposes a node's saved tensors and its outputs'
// gradients as soon as the node is done, and on the cpu backend sums a tensor's gradients in
// place: the peak is the forward's activations, shrinking as the backward passes them.
import * as tf from '@tensorflow/tfjs'
import { soleOwner, values } from './cpu-memory'
import { nativeKernels } from './kernels'

interface TapeNode {
  id: number
  kernelName: string
  outputs: tf.Tensor[]
  inputs: tf.NamedTensorMap
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>
  saved?: tf.Tensor[]
}

/** The engine's tape internals this file uses (tfjs-core 4.x Engine). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number }
  startTape(): void
  endTape(): void
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T
}

/**
 * acc += dx in place on the cpu backend when acc's storage is its own (no clone sharing it), on the
 * native add where the addon backs the backend; false, and nothing done, anywhere else. No third
 * tensor while two gradients are summed. Float32 sums computed in doubles and rounded once are the
 * float32 sums tf.add gives, so the result is the same bits.
 */
export function addInto(acc: tf.Tensor, dx: tf.Tensor): boolean {
  if (tf.getBackend() !== 'cpu' || acc.dtype !== 'float32' || dx.dtype !== 'float32' || acc.size !== dx.size || !soleOwner(acc)) return false
  const a = values(acc)
  const b = values(dx)
  const native = nativeKernels()
  if (native) native.add(a, b, a)
  else for (let i = 0; i < a.length; i++) a[i] += b[i]
  return true
}

/**
 * The value of f and the gradients of it with respect to xs (dy: the gradient of f's output,
 * ones when absent), as tf.engine().gradients returns them. Not for nested use (higher-order
 * gradients): it owns the tape it records.
 */
export function gradients<T extends tf.Tensor>(f: () => T, xs: tf.Tensor[], dy?: tf.Tensor): { value: T; grads: tf.Tensor[] } {
  const engine = tf.engine() as unknown as EngineInternals
  if (engine.state.gradientDepth > 0) throw new Error('backprop.gradients cannot run inside another gradient computation')
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f)
  )
  const tape = engine.state.activeTape!
  engine.state.activeTape = null
  const wanted = new Set(xs.map((x) => x.id))
  try {
    // The tensors that depend on xs, and for each node the inputs among them (as tfjs's filter prunes them).
    const fromX = new Set(wanted)
    const pruned = new Map<number, tf.NamedTensorMap>()
    for (const node of tape) {
      const inputs: tf.NamedTensorMap = {}
      let any = false
      for (const [name, input] of Object.entries(node.inputs))
        if (fromX.has(input.id)) {
          inputs[name] = input
          any = true
        }
      if (!any) continue
      pruned.set(node.id, inputs)
      for (const o of node.outputs) fromX.add(o.id)
    }
    const grads = tf.tidy(() => {
      const acc = new Map<number, tf.Tensor>([[y.id, dy ?? tf.onesLike(y)]])
      for (let i = tape.length - 1; i >= 0; i--) {
        const node = tape[i]
        const inputs = pruned.get(node.id)
        const dys = node.outputs.map((o) => acc.get(o.id) ?? null)
        if (inputs && dys.some((d) => d !== null)) {
          if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`)
          const inputGradients = node.gradient(dys)
          for (const [name, x] of Object.entries(inputs)) {
            // A handle of its own (no copy): a gradient function may hand back dy or a saved tensor, which are disposed below.
            const dx = tf.tidy(() => inputGradients[name]().clone())
            if (dx.dtype !== 'float32') throw new Error(`Error in gradient for op ${node.kernelName}: the gradient of input ${name} is ${dx.dtype}, not float32`)
            const current = acc.get(x.id)
            if (!current) acc.set(x.id, dx)
            else {
              if (current === dy || !addInto(current, dx)) {
                acc.set(x.id, tf.add(current, dx))
                current.dispose()
              }
              dx.dispose()
            }
          }
        }
        // This node is done: what it saved and its outputs' gradients are needed no more.
        for (const t of node.saved ?? []) t.dispose()
        for (const o of node.outputs) {
          const g = acc.get(o.id)
          if (g && !wanted.has(o.id)) {
            acc.delete(o.id)
            if (g !== dy) g.dispose()
          }
        }
      }
      return xs.map((x) => acc.get(x.id) ?? tf.zerosLike(x))
    })
    return { value: y, grads }
  } finally {
    for (const node of tape) for (const t of node.saved ?? []) t.dispose()
  }
}
