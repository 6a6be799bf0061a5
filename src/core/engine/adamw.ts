// AdamW (Loshchilov & Hutter): Adam moments with bias correction and decoupled weight decay,
// applied only to the parameters decays() names (matrices and embeddings, not biases or norms).
import * as tf from '@tensorflow/tfjs'
import { soleOwner, values, wrap } from './cpu-memory'
import { nativeKernels } from './kernels'
import { decays } from './param-names'

export interface AdamWSettings {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

export interface AdamWState {
  step: number
  m: Map<string, tf.Variable>
  v: Map<string, tf.Variable>
}

export class AdamW {
  readonly state: AdamWState

  constructor(
    readonly settings: AdamWSettings,
    params: Map<string, tf.Variable>,
    state?: AdamWState
  ) {
    this.state = state ?? {
      step: 0,
      m: new Map([...params].map(([name, p]) => [name, tf.variable(tf.zerosLike(p), false)])),
      v: new Map([...params].map(([name, p]) => [name, tf.variable(tf.zerosLike(p), false)]))
    }
  }

  /** One update with learning rate lr from gradients keyed by parameter name. */
  apply(params: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>, lr: number): void {
    const { beta1, beta2, eps, weightDecay } = this.settings
    const t = ++this.state.step
    const stepSize = lr / (1 - beta1 ** t)
    const vCorrection = 1 / (1 - beta2 ** t)
    const native = nativeKernels()
    for (const [name, p] of params) {
      if (native) {
        const g = grads.get(name)
        if (!g) continue
        // One fused pass with the moments and the parameter updated in place: no step allocates
        // (the kernel reads each element before writing it). A parameter whose storage another
        // tensor shares (a clone still alive) gets new storage instead, so that tensor keeps its values.
        const shared = !soleOwner(p)
        const out = shared ? new Float32Array(p.size) : values(p)
        native.adamw(values(p), values(g), values(this.state.m.get(name)!), values(this.state.v.get(name)!), out, lr, beta1, beta2, eps, decays(name) ? weightDecay : 0, stepSize, vCorrection)
        if (shared) {
          const next = wrap(out, p.shape)
          p.assign(next)
          next.dispose()
        }
        continue
      }
      const g = grads.get(name)
      if (!g) continue
      const m = this.state.m.get(name)!
      const v = this.state.v.get(name)!
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1))
        const v1 = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2))
        const denom = tf.add(tf.sqrt(tf.mul(v1, vCorrection)), eps)
        let next = tf.sub(p, tf.mul(tf.div(m1, denom), stepSize))
        if (weightDecay > 0 && decays(name)) next = tf.sub(next, tf.mul(p, lr * weightDecay))
        m.assign(m1)
        v.assign(v1)
        p.assign(next)
      })
    }
  }

  dispose(): void {
    for (const t of [...this.state.m.values(), ...this.state.v.values()]) t.dispose()
  }
}
