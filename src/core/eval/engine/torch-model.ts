// The evaluator's LanguageModel on the PyTorch engine: the same requests as GPTLanguageModel
// (gpt-model.ts) turned into the same token items here in Node (GPT-2 BPE, end-of-text for an
// empty context, left truncation, rolling windows, identical items scored once), answered by a
// pool of model servers (python/gptw_torch/serve.py, one per device) that shards them by length.
// greedy_until makes the embedded loop's choices (generate.ts: the same context cut, window,
// stop check after every token) from tokens the servers decode a few at a time with a KV cache.
// The id is the checkpoint fingerprint, so the request cache is shared with the embedded engine.
import type { EvalConfig } from '../../../shared/config/eval'
import type { PytorchReport } from '../../../shared/devices'
import { type GreedyUntilRequest, type LoglikelihoodRequest, type LoglikelihoodResult, type LoglikelihoodRollingRequest, MAX_GEN_TOKENS } from '../../../shared/eval'
import { END_OF_TEXT, GPT2_VOCAB_SIZE, decodeTokens, encodeText } from '../../data/gpt2-tokenizer'
import { ModelServerPool, type TorchDtypeChoice, cpuServerThreads } from '../../engine/pytorch/model-server'
import { pytorchReport } from '../../engine/pytorch/probe'
import type { LanguageModel } from '../model'
import { contextBudget, cutAtStops } from './generate'
import { loglikelihood, loglikelihoodRolling } from './request-items'

/** Tokens asked per server call in greedy_until: past a stop the extra ones are dropped. */
const GREEDY_STEPS = 16

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

  loglikelihood(requests: readonly LoglikelihoodRequest[]): Promise<LoglikelihoodResult[]> {
    return loglikelihood(requests, this.maxLength, (items) => this.pool.score(items))
  }

  loglikelihoodRolling(requests: readonly LoglikelihoodRollingRequest[]): Promise<number[]> {
    return loglikelihoodRolling(requests, this.maxLength, (items) => this.pool.score(items))
  }

  async greedyUntil(requests: readonly GreedyUntilRequest[]): Promise<string[]> {
    const n = this.maxLength
    const out = new Array<string>(requests.length)
    let active = requests.map((r, i) => {
      const maxTokens = r.maxTokens ?? MAX_GEN_TOKENS
      const context = r.context === '' ? [END_OF_TEXT] : encodeText(r.context)
      return { i, tokens: context.slice(-contextBudget(n, maxTokens)), generated: [] as number[], stops: r.stops, maxTokens }
    })
    while (active.length) {
      const chunks = await this.pool.greedy(
        active.map((s) => s.tokens.slice(-n)),
        GREEDY_STEPS
      )
      active = active.filter((s, k) => {
        for (const t of chunks[k]) {
          s.tokens.push(t)
          s.generated.push(t)
          const text = decodeTokens(s.generated)
          if (s.stops.some((stop) => text.includes(stop)) || s.generated.length >= s.maxTokens) {
            out[s.i] = cutAtStops(text, s.stops)
            return false
          }
        }
        return true
      })
    }
    return out
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
export function startModelServers(checkpoint: string, o: { devices: readonly string[]; dtype: TorchDtypeChoice; batchSize: number; python: string }): Promise<ModelServerPool> {
  return ModelServerPool.start(o.devices, { checkpoint, dtype: o.dtype, batchSize: o.batchSize, python: o.python, threads: cpuServerThreads(o.devices) })
}
