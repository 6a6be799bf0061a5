// Served decoding on the PyTorch engine for `npm run bench` (its generation-pytorch section, issue
// 18): the bench preset's model (random weights, saved as a checkpoint) on one CPU model server,
// several greedy sequences decoded at once (their one-token steps batched into one forward by
// ModelServer.decode, as the served API runs them) beside the same sequences one after another
// (a forward per token), with the server on all the cores' threads (as serving one CPU device
// starts it) and on one thread. The passes are interleaved round by round; each figure is the
// median pass. The greedy tokens must agree between the two ways.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { benchPresetModel, median, round } from '../../bench-figures'
import { argmax } from '../../generate/sampling'
import { type BackendName, initBackend } from '../backend'
import { saveCheckpoint } from '../checkpoint'
import { toHost } from '../checkpoint-tf'
import { GPT } from '../model'
import { ModelServer } from './model-server'

export interface TorchDecodeFigure {
  threads: number
  together_passes_s: number[]
  one_at_a_time_passes_s: number[]
  together_tokens_per_s: number
  one_at_a_time_tokens_per_s: number
  /** together over one at a time. */
  ratio: number
  /** Forwards of one-token steps by how many sequences were in them. */
  step_batches: Record<string, number>
  greedy_equal: boolean
}

export async function torchDecodeBench(
  resourcesDir: string,
  o: { python: string; sequences?: number; newTokens?: number; promptTokens?: number; rounds?: number; backend?: BackendName | 'auto' }
): Promise<{ preset: string; sequences: number; new_tokens: number; prompt_tokens: number; rounds: number; runs: TorchDecodeFigure[] }> {
  const { model } = benchPresetModel(resourcesDir)
  const [sequences, newTokens, promptTokens, rounds] = [o.sequences ?? 8, o.newTokens ?? 64, o.promptTokens ?? 16, o.rounds ?? 3]
  if (promptTokens + newTokens > model.nCtx) throw new Error(`${promptTokens} + ${newTokens} tokens do not fit the bench model's context of ${model.nCtx}`)
  await initBackend(o.backend ?? 'auto')
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-bench-torch-decode-'))
  try {
    const checkpoint = path.join(root, 'step-1')
    const gpt = new GPT(model)
    saveCheckpoint(checkpoint, { config: model, params: await toHost(gpt.params) })
    gpt.dispose()
    const runs: TorchDecodeFigure[] = []
    for (const threads of [...new Set([os.cpus().length, 1])]) {
      const server = await ModelServer.start({ checkpoint, device: 'cpu:0', dtype: 'float32', purpose: 'generate', python: o.python, batchSize: 1, threads })
      try {
        let sessions = 0
        const greedy = async (k: number): Promise<number[]> => {
          const session = `b${++sessions}`
          let logits = await server.decode(
            session,
            Array.from({ length: promptTokens }, (_, i) => 100 + 7 * k + i),
            true
          )
          const out: number[] = []
          for (let i = 0; i < newTokens; i++) {
            out.push(argmax(logits, model.vocabSize))
            if (i + 1 < newTokens) logits = await server.decode(session, [out[i]], false)
          }
          await server.closeSession(session)
          return out
        }
        await greedy(0) // warm-up
        const before = new Map(server.stepBatches)
        const together: number[] = []
        const alone: number[] = []
        let equal = true
        for (let r = 0; r < rounds; r++) {
          let t0 = process.hrtime.bigint()
          const a = await Promise.all(Array.from({ length: sequences }, (_, k) => greedy(k)))
          together.push(Number(process.hrtime.bigint() - t0) / 1e9)
          t0 = process.hrtime.bigint()
          const b: number[][] = []
          for (let k = 0; k < sequences; k++) b.push(await greedy(k))
          alone.push(Number(process.hrtime.bigint() - t0) / 1e9)
          equal &&= JSON.stringify(a) === JSON.stringify(b)
        }
        const tokens = sequences * newTokens
        const batches: Record<string, number> = {}
        for (const [n, c] of server.stepBatches) if (c - (before.get(n) ?? 0) > 0) batches[String(n)] = c - (before.get(n) ?? 0)
        runs.push({
          threads,
          together_passes_s: together.map((s) => round(s, 3)),
          one_at_a_time_passes_s: alone.map((s) => round(s, 3)),
          together_tokens_per_s: round(tokens / median(together), 1),
          one_at_a_time_tokens_per_s: round(tokens / median(alone), 1),
          ratio: round(median(alone) / median(together), 3),
          step_batches: batches,
          greedy_equal: equal
        })
      } finally {
        await server.close()
      }
    }
    return { preset: 'bench', sequences, new_tokens: newTokens, prompt_tokens: promptTokens, rounds, runs }
  } finally {
    fs.rmSync(root, { recursive: true, force: true })
  }
}
