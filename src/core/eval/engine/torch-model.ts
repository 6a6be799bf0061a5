// The evaluator's LanguageModel on the PyTorch engine: the same requests as GPTLanguageModel
// (gpt-model.ts) turned into the same token items here in Node (GPT-2 BPE, end-of-text for an
// empty context, left truncation, rolling windows, identical items scored once), answered by a
// pool of model servers (python/gptw_torch/serve.py, one per device) that shards them by length.
// greedy_until runs the same loop (generate.ts) over the pool's argmax. The id is the checkpoint
// fingerprint, so the request cache is shared with the embedded engine.
import os from 'node:os'
import type { EvalConfig } from '../../../shared/config/eval'
import type { PytorchReport } from '../../../shared/devices'
import { type GreedyUntilRequest, type LoglikelihoodRequest, type LoglikelihoodResult, type LoglikelihoodRollingRequest, MAX_GEN_TOKENS } from '../../../shared/eval'
import { END_OF_TEXT, GPT2_VOCAB_SIZE, decodeTokens, encodeText } from '../../data/gpt2-tokenizer'
import { ModelServerPool, type TokenItem, type TorchDtype } from '../../engine/pytorch/model-server'
import { pytorchReport } from '../../engine/pytorch/probe'
import type { LanguageModel } from '../model'
import { loglikelihoodInput, rollingWindows } from '../rolling'
import { greedyGenerate } from './generate'

export class TorchLanguageModel implements LanguageModel {
  constructor(
    private readonly pool: ModelServerPool,
    readonly id: string
  ) {
    if (pool.info.vocabSize < GPT2_VOCAB_SIZE) {
      throw new Error(`This checkpoint's vocabulary has ${pool.info.vocabSize} tokens; evaluation uses GPT-2's BPE of ${GPT2_VOCAB_SIZE} tokens. Evaluate a checkpoint trained on GPT-2 tokens.`)
    }
  }

  get maxLength(): number {
    return this.pool.info.nCtx
  }

  async loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    const items = requests.map((r) => {
      const context = r.context === '' ? [END_OF_TEXT] : encodeText(r.context)
      const continuation = encodeText(r.continuation)
      return { input: loglikelihoodInput(context, continuation, this.maxLength).input, continuation }
    })
    return this.scoreUnique(items)
  }

  async loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    const perText = requests.map((r) =>
      rollingWindows(encodeText(r.text), END_OF_TEXT, this.maxLength, 1).map((w) => ({ input: loglikelihoodInput(w.context, w.continuation, this.maxLength).input, continuation: w.continuation }))
    )
    const scores = await this.scoreUnique(perText.flat())
    let at = 0
    return perText.map((windows) => {
      let sum = 0
      for (let k = 0; k < windows.length; k++) sum += scores[at++].logprob
      return sum
    })
  }

  async greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    const scorer = { contextLength: this.maxLength, nextTokens: (seqs: readonly (readonly number[])[]) => this.pool.nextTokens(seqs) }
    return greedyGenerate(
      scorer,
      requests.map((r) => ({ context: r.context === '' ? [END_OF_TEXT] : encodeText(r.context), stops: r.stops, maxTokens: r.maxTokens ?? MAX_GEN_TOKENS })),
      decodeTokens
    )
  }

  private async scoreUnique(items: TokenItem[]): Promise<LoglikelihoodResult[]> {
    const index = new Map<string, number>()
    const unique: TokenItem[] = []
    const slot = items.map((x) => {
      const k = `${x.input.join(',')}|${x.continuation.join(',')}`
      let i = index.get(k)
      if (i === undefined) {
        index.set(k, (i = unique.length))
        unique.push(x)
      }
      return i
    })
    const scores = await this.pool.score(unique)
    return slot.map((i) => ({ ...scores[i] }))
  }
}

/** Which engine evaluates: `auto` is PyTorch when a GPU is selected and the interpreter has torch with CUDA (as training chooses). */
export async function resolveEvalEngine(
  config: Pick<EvalConfig, 'engine' | 'devices' | 'python'>,
  probe: (python?: string) => Promise<PytorchReport> = pytorchReport
): Promise<'embedded' | 'pytorch'> {
  if (config.engine !== 'auto') return config.engine
  if (!config.devices.some((d) => d.startsWith('gpu:'))) return 'embedded'
  const report = await probe(config.python)
  return report.usable && report.cudaAvailable ? 'pytorch' : 'embedded'
}

/** The interpreter to run the model servers with, or an error saying why it cannot. */
export async function torchPython(setting?: string): Promise<PytorchReport> {
  const report = await pytorchReport(setting)
  if (!report.usable) throw new Error(report.problem ?? `The Python interpreter ${report.python} cannot run the PyTorch engine.`)
  return report
}

/** One model server per device for a checkpoint; CPU processes share the cores between them. */
export function startModelServers(checkpoint: string, o: { devices: readonly string[]; dtype: TorchDtype; batchSize: number; python: string }): Promise<ModelServerPool> {
  const cpus = o.devices.filter((d) => d.startsWith('cpu:')).length
  const threads = cpus ? Math.max(1, Math.floor(os.cpus().length / cpus)) : 0
  return ModelServerPool.start(o.devices, { checkpoint, dtype: o.dtype, batchSize: o.batchSize, python: o.python, threads })
}
