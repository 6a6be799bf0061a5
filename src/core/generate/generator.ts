// One generation at a time on a loaded model, for the Generate view's worker and `gptw generate`:
// the prompt (cut from the left to the model's window, with a notice), then tokens from the one
// generation core, BatchGenerator, in a batch of one (its seeded sampling, stop sequences, and the
// window moving past the context), streamed as text and, when asked, as tokens with their
// probabilities, until the token limit, end-of-text, a stop sequence, or the caller asks it to stop.
import type { GenerationResult, SamplingParams, StopReason, TokenInfo } from '../../shared/generate'
import { END_OF_TEXT, decodeTokens, encodeText } from '../data/gpt2-tokenizer'
import type { GPT } from '../engine/model'
import type { StepDecoder } from './batch-decoder'
import { BatchGenerator, type ModelShape, type SequenceResult, type TokenLogprob } from './batch-generator'
import { type Decoder, RecomputeDecoder, SequentialDecoder } from './decoders'

export type { ModelShape } from './batch-generator'

export interface GenerateCallbacks {
  /** Text newly safe to show (whole characters; never part of a stop sequence). */
  onText?(delta: string): void
  /** Each generated token with its probability and the likeliest alternatives (given before the text it completes). */
  onToken?(token: TokenInfo): void
  /** Things the reader should know (the prompt was cut to the window, the window moved). */
  onNotice?(message: string): void
  /** Polled between tokens: true ends the generation (stopReason 'stopped'). */
  shouldStop?(): boolean
}

export interface GeneratorOptions {
  /** The embedded GPT's batched KV cache (kv-cache), full recompute of the window per token, or a Decoder that runs elsewhere (the PyTorch engine's model server: torch-decoder.ts). */
  decoder?: 'kv-cache' | 'recompute' | Decoder
  /** Alternatives reported per token (0 skips the per-token probabilities entirely). */
  alternatives?: number
}

export interface GenerationOutput extends GenerationResult {
  /** The generated ids (end-of-text excluded). */
  ids: number[]
}

/** A prompt as text (GPT-2 BPE; end-of-text is put before it as a document start) or as ids, used as they are. */
export type Prompt = { text: string } | { ids: number[] }

export class Generator<M extends ModelShape = GPT> {
  private readonly batch: BatchGenerator<M>
  private readonly alternatives: number
  private readonly own: Decoder | null

  constructor(
    readonly model: M,
    options: GeneratorOptions = {}
  ) {
    const d = options.decoder
    this.own = typeof d === 'object' ? d : null
    let decoder: StepDecoder | undefined
    if (typeof d === 'object') {
      // One Decoder given: every generation uses it, reset (a batch of one).
      decoder = new SequentialDecoder(
        () => {
          d.reset()
          return d
        },
        (x) => x.reset()
      )
    } else if (d === 'recompute') decoder = new SequentialDecoder(() => new RecomputeDecoder(model as ModelShape as GPT))
    this.batch = new BatchGenerator(model, { maxBatch: 1, maxQueue: 64, decoder })
    this.alternatives = options.alternatives ?? 5
  }

  /** The prompt's token ids, checked against the model's vocabulary. */
  promptIds(prompt: Prompt): number[] {
    const vocab = this.model.config.vocabSize
    if ('ids' in prompt) {
      const bad = prompt.ids.find((id) => !Number.isInteger(id) || id < 0 || id >= vocab)
      if (bad !== undefined) throw new Error(`Prompt token ${bad} is outside the model's vocabulary of ${vocab}.`)
      if (!prompt.ids.length) throw new Error('The prompt has no tokens: give at least one.')
      return [...prompt.ids]
    }
    if (vocab <= END_OF_TEXT) {
      throw new Error(`This model's vocabulary has ${vocab} tokens: it was not trained with the GPT-2 tokenizer, so it cannot take text prompts (give token ids instead).`)
    }
    return [END_OF_TEXT, ...encodeText(prompt.text)]
  }

  async generate(prompt: Prompt, params: SamplingParams, cb: GenerateCallbacks = {}): Promise<GenerationOutput> {
    const started = performance.now()
    const { nCtx } = this.model.config
    let visible = this.promptIds(prompt)
    const context = 'text' in prompt ? prompt.text : decodeTokens(prompt.ids)
    const notices: string[] = []
    const notice = (message: string): void => {
      notices.push(message)
      cb.onNotice?.(message)
    }
    if (visible.length > nCtx) {
      notice(`The prompt has ${visible.length} tokens, more than the model's context of ${nCtx}: generation sees only its last ${nCtx} tokens.`)
      visible = visible.slice(-nCtx)
    }
    const withTokens = !!cb.onToken && this.alternatives > 0
    const handle = this.batch.submit(
      {
        ids: visible,
        maxTokens: params.maxNewTokens,
        sampling: { temperature: params.temperature, topP: params.topP, topK: params.topK, repetitionPenalty: params.repetitionPenalty, presencePenalty: 0, frequencyPenalty: 0, seed: params.seed },
        stop: params.stop,
        stopAtEndOfText: params.stopAtEndOfText,
        logprobs: withTokens ? this.alternatives : null,
        promptLogprobs: false,
        slide: true
      },
      {
        onText: (delta, tokens) => {
          for (const t of tokens) cb.onToken?.(tokenInfo(t))
          if (delta) cb.onText?.(delta)
        },
        onSlide: (n) => {
          if (n === 1) notice(`The text reached the model's context of ${nCtx} tokens: from here on the oldest tokens are dropped as it goes on.`)
        },
        shouldStop: cb.shouldStop
      }
    )
    const r = await handle.result
    const stopReason = stopReasonOf(r)
    return {
      context,
      text: r.text,
      length: r.ids.length,
      finished: stopReason === 'end-of-text' || stopReason === 'stop-sequence',
      stopReason,
      message: notices.length ? notices.join(' ') : null,
      duration_seconds: (performance.now() - started) / 1000,
      promptTokens: visible.length,
      ids: r.ids
    }
  }

  dispose(): void {
    void this.batch.close()
    this.own?.dispose()
  }
}

function stopReasonOf(r: SequenceResult): StopReason {
  if (r.finishReason === 'cancelled') return 'stopped'
  if (r.finishReason === 'stop') return r.stoppedBy ?? 'stop-sequence'
  return 'max-tokens'
}

/** A token's logprobs as the token view shows them: pieces of text and probabilities. */
function tokenInfo(t: TokenLogprob): TokenInfo {
  return { id: t.id, piece: decodeTokens([t.id]), prob: Math.exp(t.logprob), top: t.top.map((a) => ({ id: a.id, piece: decodeTokens([a.id]), prob: Math.exp(a.logprob) })) }
}

/** Sampling parameters that pick the argmax at every step. */
export function greedy(params: SamplingParams): SamplingParams {
  return { ...params, temperature: 0, topK: 0, topP: 0 }
}
