// Activation checkpointing per block (the training config's activationCheckpointing): the loss and
// its gradients keeping only each block's input from the forward pass. The forward runs with no
// tape, one block at a time, each block's activations freed as soon as its output exists. The
// backward walks the blocks in reverse: it runs the block's forward again under a tape of its own
// (the same kernels on the same input, dropout with the same seeds, so the same values) and takes
// that block's gradients with the gradient of its output. One block's activations and gradients
// are alive at a time instead of every block's; the cost is a second forward of each block.
// Gradients are those of model.loss under tf.variableGrads, bit for bit (test/engine/checkpointing.test.ts).
import * as tf from '@tensorflow/tfjs'
import { addInto, gradients } from './backprop'
import { soleOwner } from './cpu-memory'
import { addLookupGradient } from './lookup-gradient'
import { block, type GPT } from './model'
import { kernels } from './kernels'

/** The gradient of `f` at `xs` given the gradient `dy` of its output; the output is disposed. */
function gradientsOf(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const { value, grads } = gradients(f, xs, dy)
  value.dispose()
  return grads
}

/** a + b, consuming both: in place into a on the cpu backend (the same bits as tf.add), so the tied embedding's two gradients need no third buffer. */
function sum(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  if (addInto(a, b)) {
    b.dispose()
    return a
  }
  const out = tf.add(a, b)
  tf.dispose([a, b])
  return out
}

/**
 * The mean loss of targets [B, T] given ids [B, T] and its gradients keyed by tfjs variable name,
 * as tf.variableGrads(() => model.loss(idx, targets, training)) returns them. With dropout, the
 * embedding draws from `seed` and block i from seed + 8 (i + 1) (model.dropout).
 */
export function checkpointedLossAndGrads(
  model: GPT,
  idx: tf.Tensor2D,
  targets: tf.Tensor2D,
  training: boolean,
  seed = Math.floor(Math.random() * 2 ** 30)
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const c = model.config
  const [B, T] = idx.shape
  const k = kernels()
  const attend = model.causalAttention(B, T)
  // One seed per segment (the embedding, each block): the recomputation drops what the first forward dropped.
  const seeds = Array.from({ length: c.nLayer + 1 }, (_, i) => seed + 8 * i)
  const embed = (): tf.Tensor2D => model.embed(idx, 0, model.dropout(training, seeds[0]))
  const forward = (i: number, x: tf.Tensor2D): tf.Tensor2D => block(k, x, model.blocks[i], (qkv) => attend(qkv, i), c.layerNormEps, model.dropout(training, seeds[i + 1]))
  const blockVars = (i: number): tf.Variable[] => [...model.params].filter(([name]) => name.startsWith(`h.${i}.`)).map(([, v]) => v)

  // Forward: the blocks' inputs only (inputs[i] is block i's input, inputs[L] the last block's output).
  const inputs: tf.Tensor2D[] = [tf.tidy(embed)]
  for (let i = 0; i < c.nLayer; i++) inputs.push(tf.tidy(() => forward(i, inputs[i])))

  const grads: tf.NamedTensorMap = {}
  const { wte, wpe, lnF } = model
  // The head: ln_f, the tied lm head and the loss, with the gradient of the last block's output.
  const last = inputs[c.nLayer]
  const head = gradients(() => model.headLoss(last, targets, true), [last, lnF.gain, lnF.bias, wte])
  let dx = head.grads[0] as tf.Tensor2D
  grads[(lnF.gain as tf.Variable).name] = head.grads[1]
  grads[(lnF.bias as tf.Variable).name] = head.grads[2]
  const headWte = head.grads[3]
  last.dispose()

  // Backward through the blocks: recompute block i from its input, then its gradients given dx.
  for (let i = c.nLayer - 1; i >= 0; i--) {
    const x = inputs[i]
    const vars = blockVars(i)
    const [dxi, ...dw] = gradientsOf(() => forward(i, x), [x, ...vars], dx)
    vars.forEach((v, j) => (grads[v.name] = dw[j]))
    dx.dispose()
    x.dispose()
    dx = dxi as tf.Tensor2D
  }

  // The embedding: the tied wte's gradient is the head's plus the lookup's (in the order the whole-model tape adds them).
  if (k.name === 'native' && soleOwner(headWte)) {
    // The lookup's gradient has rows only for the ids present: added into the head's in place
    // rather than made as a second [vocab, C] table beside it (on the native rung, whose
    // UnsortedSegmentSum sums each id's rows in the order addLookupGradient does).
    const ids = tf.tidy(() => tf.reshape(idx, [-1]))
    const tok = tf.gather(wte, ids) as tf.Tensor2D
    const [dTok, dWpe] = gradientsOf(() => model.addPositions(tok, B, 0, model.dropout(training, seeds[0])), [tok, wpe], dx)
    addLookupGradient(headWte, ids, dTok)
    tf.dispose([ids, tok, dTok, dx])
    grads[(wte as tf.Variable).name] = headWte
    grads[(wpe as tf.Variable).name] = dWpe
  } else {
    const [embWte, dWpe] = gradientsOf(embed, [wte, wpe], dx)
    dx.dispose()
    grads[(wte as tf.Variable).name] = sum(headWte, embWte)
    grads[(wpe as tf.Variable).name] = dWpe
  }
  return { value: head.value, grads }
}
