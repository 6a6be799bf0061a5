// The served API's sequences on several PyTorch model servers (issue 18: "generation batches spread
// the same way" as eval's requests): TorchBatchGenerator gives each new sequence to the server with
// the fewest running, so four at once over two CPU servers decode two on each, each server's two in
// one forward per step; every sequence gets the tokens it gets alone on one server, greedy and
// sampled with its seed (the draws are made in Node from the sequence's seeded RNG, so they repeat
// across runs and servers).
import path from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { encodeText } from '../../src/core/data/gpt2-tokenizer'
import { ModelServer } from '../../src/core/engine/pytorch/model-server'
import type { SequenceRequest } from '../../src/core/generate/batch-generator'
import { TorchBatchGenerator } from '../../src/core/serve-api/torch-backend'
import { tempDir } from '../helpers'
import { randomCheckpoint } from '../eval/random-checkpoint'
import { PACKAGE_DIR, PYTHON, describeTorch } from './helpers'

const PROMPTS = ['Call me Ishmael.', 'The whale', 'It was the best of times', 'Ahab']
const MAX_TOKENS = 12

const request = (prompt: string, temperature: number, seed: number): SequenceRequest => ({
  ids: encodeText(prompt),
  maxTokens: MAX_TOKENS,
  sampling: { temperature, topP: 1, topK: 40, repetitionPenalty: 1, presencePenalty: 0, frequencyPenalty: 0, seed },
  stop: [],
  stopAtEndOfText: false,
  logprobs: null,
  promptLogprobs: false
})

describeTorch('served sequences spread over PyTorch model servers', () => {
  let servers: ModelServer[] = []

  beforeAll(async () => {
    const dir = path.join(tempDir('gptw-torch-spread-'), 'step-1')
    randomCheckpoint(dir, { nCtx: 64, seed: 29 })
    servers = await Promise.all(
      ['cpu:0', 'cpu:1'].map((device) => ModelServer.start({ checkpoint: dir, device, dtype: 'float32', purpose: 'generate', python: PYTHON, packageDir: PACKAGE_DIR, batchSize: 1, threads: 1 }))
    )
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()))
  })

  /** One-token steps each server has decoded, counted by sequences (a 2-wide step counts 2). */
  const stepped = (): number[] => servers.map((s) => [...s.stepBatches].reduce((n, [width, count]) => n + width * count, 0))

  for (const [name, temperature] of [
    ['greedy', 0],
    ['sampled with a seed', 1]
  ] as const) {
    it(`${name}: four at once decode two on each server, each the tokens it gets alone`, async () => {
      const requests = PROMPTS.map((p, i) => request(p, temperature, 7 + i))
      const alone = new TorchBatchGenerator([servers[0]])
      const want: number[][] = []
      for (const r of requests) want.push((await alone.submit(r).result).ids)
      expect(want.every((ids) => ids.length === MAX_TOKENS)).toBe(true)
      expect(new Set(want.map((ids) => ids.join())).size).toBe(PROMPTS.length)

      const spread = new TorchBatchGenerator(servers, { maxBatch: 4 })
      for (let run = 0; run < 2; run++) {
        const before = stepped()
        const got = await Promise.all(requests.map((r) => spread.submit(r).result))
        expect(got.map((g) => g.ids)).toEqual(want)
        // each server stepped two sequences for every token after the prompt's
        expect(stepped().map((n, k) => n - before[k])).toEqual([2 * (MAX_TOKENS - 1), 2 * (MAX_TOKENS - 1)])
        // and stepped them together: 2-wide steps on each, none wider
        servers.forEach((s, k) => {
          expect(s.stepBatches.get(2) ?? 0, `server ${k}`).toBeGreaterThan(0)
          expect(Math.max(...s.stepBatches.keys()), `server ${k}`).toBe(2)
        })
      }
      await spread.close()
      await alone.close()
    })
  }
})
