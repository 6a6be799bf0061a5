// The embedded path's kernels against tfjs's reference `cpu` backend: each op and its gradient on
// random inputs, on wasm (XNNPACK + the project's kernels), on native (the project's addon under
// the cpu backend, when it is built) and on stock cpu, within float tolerance.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { describe, expect, it } from 'vitest'
import { initBackend } from '../../src/core/engine/backend'
import { loadNative } from '../../src/core/engine/native'
import { causalSelfAttention } from '../../src/core/engine/model'
import { causalMask, crossEntropy, gelu, kernels, layerNorm, linear, tiedHead } from '../../src/core/engine/ops'

type Case = { name: string; shapes: number[][]; f: (xs: tf.Tensor[], targets: tf.Tensor1D) => tf.Scalar }

const CASES: Case[] = [
  { name: 'linear', shapes: [[6, 4], [4, 5], [5]], f: ([x, w, b]) => tf.sum(tf.sin(linear(x as tf.Tensor2D, w as tf.Tensor2D, b as tf.Tensor1D))) },
  {
    name: 'linear without bias',
    shapes: [
      [6, 4],
      [4, 5]
    ],
    f: ([x, w]) => tf.sum(tf.sin(linear(x as tf.Tensor2D, w as tf.Tensor2D, null)))
  },
  { name: 'layerNorm', shapes: [[6, 8], [8], [8]], f: ([x, g, b]) => tf.sum(tf.sin(layerNorm(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-5))) },
  { name: 'gelu', shapes: [[6, 8]], f: ([x]) => tf.sum(tf.sin(gelu(x))) },
  { name: 'causal attention', shapes: [[8, 12]], f: ([x]) => tf.sum(tf.sin(causalSelfAttention(x as tf.Tensor2D, 2, 4, 2, causalMask(4)))) },
  {
    // The kernel set's own attention where it has one (native: flash attention, no T x T tensor kept); 2 sequences of 5, 3 heads of 4.
    name: "causal attention, the kernels' own",
    shapes: [[10, 36]],
    f: ([x]) => tf.sum(tf.sin(kernels().causalAttention?.(x as tf.Tensor2D, 2, 5, 3) ?? causalSelfAttention(x as tf.Tensor2D, 2, 5, 3, causalMask(5))))
  },
  { name: 'cross-entropy (padded vocab)', shapes: [[6, 64]], f: ([x], t) => crossEntropy(x as tf.Tensor2D, t, 60) },
  { name: 'embedding gather (UnsortedSegmentSum)', shapes: [[7, 3]], f: ([x]) => tf.sum(tf.sin(tf.gather(x, tf.tensor1d([1, 2, 1, 0, 5], 'int32')))) },
  {
    name: 'tied lm head',
    shapes: [
      [6, 8],
      [20, 8]
    ],
    f: ([h, w]) => tf.sum(tf.sin(tiedHead(h as tf.Tensor2D, w as tf.Tensor2D)))
  },
  {
    name: 'products with transposes',
    shapes: [
      [3, 5, 4],
      [3, 6, 4],
      [4, 7],
      [4, 5]
    ],
    f: ([a, b, c, d]) => tf.add(tf.sum(tf.sin(tf.matMul(a, b, false, true))), tf.sum(tf.sin(tf.matMul(c as tf.Tensor2D, d as tf.Tensor2D, true, false))))
  },
  {
    name: 'products with one to four rows (decoding)',
    shapes: [
      [1, 40],
      [70, 40],
      [3, 40],
      [40, 9],
      [40, 2]
    ],
    f: ([a, b, c, d, e]) =>
      tf.addN([
        tf.sum(tf.sin(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D, false, true))),
        tf.sum(tf.sin(tf.matMul(c as tf.Tensor2D, d as tf.Tensor2D))),
        tf.sum(tf.sin(tf.matMul(e as tf.Tensor2D, d as tf.Tensor2D, true, false)))
      ]) as tf.Scalar
  },
  {
    name: 'softmax and row-broadcast arithmetic',
    shapes: [
      [2, 3, 4],
      [2, 3, 1]
    ],
    f: ([a, b]) => tf.add(tf.sum(tf.sin(tf.mul(tf.softmax(a), b))), tf.sum(tf.sin(tf.div(tf.sub(b, a), tf.add(tf.abs(b), 1)))))
  },
  { name: 'sums over leading and trailing axes', shapes: [[3, 4, 5]], f: ([a]) => tf.add(tf.sum(tf.sin(tf.sum(a, 0))), tf.sum(tf.sin(tf.sum(tf.mul(a, a), [1, 2], true)))) },
  {
    name: 'broadcast arithmetic and transpose',
    shapes: [[2, 3, 4], [3, 4], [4]],
    f: ([a, b, c]) => tf.sum(tf.sin(tf.transpose(tf.div(tf.mul(tf.sub(tf.add(a, b), c), b), tf.add(tf.abs(c), 1)), [2, 0, 1])))
  }
]

async function evaluate(backend: 'cpu' | 'wasm' | 'native'): Promise<Map<string, number[][]>> {
  await initBackend(backend)
  const out = new Map<string, number[][]>()
  const targets = tf.tensor1d([1, 2, 3, 0, 59, 6], 'int32')
  for (const c of CASES) {
    const xs = c.shapes.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 10 + i))
    const value = c.f(xs, targets)
    const grads = tf.grads((...args: tf.Tensor[]) => c.f(args, targets))(xs)
    out.set(c.name, [Array.from(value.dataSync()), ...grads.map((g) => Array.from(g.dataSync()))])
    tf.dispose([value, ...grads, ...xs])
  }
  targets.dispose()
  return out
}

function compare(reference: Map<string, number[][]>, other: Map<string, number[][]>, name: string): void {
  const a = reference.get(name)!
  const b = other.get(name)!
  expect(b.length).toBe(a.length)
  a.forEach((values, i) => {
    const scale = Math.max(1, ...values.map(Math.abs))
    const worst = Math.max(...values.map((v, j) => Math.abs(v - b[i][j])))
    expect(worst / scale, `${name} output ${i}`).toBeLessThan(1e-5)
    expect(
      values.some((v) => v !== 0),
      `${name} output ${i} is not all zero`
    ).toBe(true)
  })
}

describe('wasm and native kernels match the cpu reference', async () => {
  const cpu = await evaluate('cpu')
  const wasm = await evaluate('wasm')
  const addon = loadNative()
  const native = addon.kernels ? await evaluate('native') : null
  // Where the addon should have built (CI unless GPTW_NATIVE=0 turns it off, or GPTW_REQUIRE_NATIVE=1) a missing one fails each case with the reason; elsewhere they are skipped.
  const requireNative = process.env.GPTW_REQUIRE_NATIVE === '1' || (process.env.CI === 'true' && process.env.GPTW_NATIVE !== '0')
  it.each(CASES.map((c) => c.name))('wasm: %s, value and gradients', (name) => compare(cpu, wasm, name))
  it.skipIf(!native && !requireNative).each(CASES.map((c) => c.name))('native: %s, value and gradients', (name) => {
    if (!native) throw new Error(`The native addon is required here (CI or GPTW_REQUIRE_NATIVE=1) but did not load: ${addon.reason}`)
    compare(cpu, native, name)
  })

  it.skipIf(!addon.kernels)("native column sums (the linear layer's bias gradient) give tfjs cpu Sum's bits", async () => {
    await initBackend('cpu')
    // Values spread over orders of magnitude, so a float32 running sum or another order would show.
    for (const [rows, cols] of [
      [1024, 77],
      [3, 3072],
      [1, 5]
    ]) {
      const x = tf.tidy(() => tf.mul(tf.randomNormal([rows, cols], 0, 1, 'float32', 5), tf.exp(tf.randomUniform([rows, cols], -8, 8, 'float32', 6))))
      const want = tf.sum(x, 0)
      const got = new Float32Array(cols)
      addon.kernels!.columnSums(x.dataSync() as Float32Array, rows, cols, got)
      expect(got, `${rows} x ${cols}`).toEqual(want.dataSync())
      tf.dispose([x, want])
    }
  })

  it.skipIf(!addon.kernels)("the native GEMM adds a linear layer's bias as each element is finished: the bits of adding it afterwards", async () => {
    await initBackend('native')
    // Several k blocks (k > 256), few rows (m <= 4), columns off the 16-wide tile, and both threads' slabs.
    for (const [m, k, n] of [
      [150, 600, 77],
      [3, 40, 50],
      [64, 768, 2304]
    ]) {
      const a = tf.randomNormal([m, k], 0, 1, 'float32', m)
      const w = tf.randomNormal([k, n], 0, 1, 'float32', k)
      const bias = tf.mul(tf.randomNormal([n], 0, 1, 'float32', n), 100)
      const fused = tf.fused.matMul({ a: a as tf.Tensor2D, b: w as tf.Tensor2D, bias })
      const afterwards = tf.add(tf.matMul(a, w), bias)
      expect(fused.dataSync(), `${m} x ${k} x ${n}`).toEqual(afterwards.dataSync())
      tf.dispose([a, w, bias, fused, afterwards])
    }
  })

  // Without AVX-512 both runs would take the AVX2 kernel and compare it with itself.
  const avx512 = fs.existsSync('/proc/cpuinfo') && /\bavx512f\b/.test(fs.readFileSync('/proc/cpuinfo', 'utf8'))
  it.skipIf(!addon.kernels || !avx512)('the native GEMM gives the same bits on its AVX-512 and AVX2 kernels (a run moves between machines bit for bit)', () => {
    // Each case in this process (AVX-512 where the CPU has it) and in a child forced onto AVX2.
    const program = `
      const k = require(process.argv[1]); const out = []
      for (const [ta, tb, m, n, k_] of [[false, true, 130, 333, 700], [false, false, 37, 70, 600], [true, false, 250, 97, 513], [true, true, 64, 1000, 300]]) {
        const a = Float32Array.from({ length: m * k_ }, (_, i) => Math.sin(i * 0.37))
        const b = Float32Array.from({ length: k_ * n }, (_, i) => Math.cos(i * 0.11) * Math.exp((i % 13) - 6))
        const c = new Float32Array(m * n)
        k.batchMatMul(ta, tb, 1, m, n, k_, a, 0, b, 0, c, false)
        out.push(Buffer.from(c.buffer).toString('base64'))
      }
      console.log(JSON.stringify(out))`
    const file = path.resolve(__dirname, '../../native/build/Release/gptw_native.node')
    const run = (env: NodeJS.ProcessEnv): string[] => JSON.parse(execFileSync(process.execPath, ['-e', program, file], { env, encoding: 'utf8' }))
    const avx2 = run({ ...process.env, GPTW_NO_AVX512: '1' })
    expect(run(process.env)).toEqual(avx2)
  })

  it('padded vocabulary columns get no gradient and no probability on any backend', () => {
    for (const results of [cpu, wasm, native].filter((r) => r !== null)) {
      const grad = results.get('cross-entropy (padded vocab)')![1]
      for (let row = 0; row < 6; row++) for (let col = 60; col < 64; col++) expect(grad[row * 64 + col]).toBe(0)
    }
  })
})
