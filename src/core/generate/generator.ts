// One generation on a loaded GPT: the prompt (cut from the left to the model's window, with a
// notice), then token after token from the KV-cache decoder (or full recompute), each chosen by
// sampling.ts with the request's seeded RNG, streamed as token ids and as text, until the token
// limit, end-of-text, a stop sequence, or the caller asks it to stop.
import type { GenerationResult, SamplingParams, StopReason, TokenInfo } from '../../shared/generate'
import { END_OF_TEXT, decodeTokens, encodeText } from '../data/gpt2-tokenizer'
import type { GPT } from '../engine/model'
import { Rng } from '../rng'
import { type Decoder, KVCacheDecoder, RecomputeDecoder } from './decoders'
import { chooseToken, tokenProbabilities } from './sampling'
import { TextStream } from './text-stream'

export interface GenerateCallbacks {
  /** Text newly safe to show (whole characters; never part of a stop sequence). */
  onText?(delta: string): void
  /** Each generated token with its probability and the likeliest alternatives. */
  onToken?(token: TokenInfo): void
  /** Things the reader should know (the prompt was cut to the window, the window moved). */
  onNotice?(message: string): void
  /** Polled between tokens: true ends the generation (stopReason 'stopped'). */
  shouldStop?(): boolean
}

export interface GeneratorOptions {
  /** A Decoder object runs elsewhere (the PyTorch engine's model server: torch-decoder.ts). */
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

/** What generation needs of the model itself: its shape (the decoder does the computing). */
export type ModelShape = Pick<GPT, 'config'>

export class Generator<M extends ModelShape = GPT> {
  private readonly decoder: Decoder
  private readonly alternatives: number

  constructor(
    readonly model: M,
    options: GeneratorOptions = {}
  ) {
    const d = options.decoder
    this.decoder = typeof d === 'object' ? d : d === 'recompute' ? new RecomputeDecoder(model as ModelShape as GPT) : new KVCacheDecoder(model as ModelShape as GPT)
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
    const { nCtx, vocabSize } = this.model.config
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
    const history = [...visible]
    const generated: number[] = []
    const stream = new TextStream(params.stop)
    const rng = new Rng(params.seed)
    // When the window is full, drop its oldest quarter and refill the cache from what is kept.
    const keepOnShift = nCtx - Math.max(1, Math.floor(nCtx / 4))
    let shifted = false
    let stopReason: StopReason = 'max-tokens'
    let finalText: string | null = null

    this.decoder.reset()
    try {
      let logits = await this.decoder.next(visible)
      for (;;) {
        if (cb.shouldStop?.()) {
          stopReason = 'stopped'
          break
        }
        const id = chooseToken(logits, vocabSize, params, history, rng)
        if (params.stopAtEndOfText && id === END_OF_TEXT) {
          stopReason = 'end-of-text'
          break
        }
        generated.push(id)
        history.push(id)
        if (cb.onToken && this.alternatives > 0) {
          const p = tokenProbabilities(logits, vocabSize, id, this.alternatives)
          cb.onToken({ id, piece: decodeTokens([id]), prob: p.prob, top: p.top.map((t) => ({ id: t.id, piece: decodeTokens([t.id]), prob: t.prob })) })
        }
        const step = stream.push(id)
        if (step.delta) cb.onText?.(step.delta)
        if (step.stoppedAt !== null) {
          finalText = step.stoppedAt
          stopReason = 'stop-sequence'
          break
        }
        if (generated.length >= params.maxNewTokens) break
        if (visible.length + 1 > nCtx) {
          if (!shifted) notice(`The text reached the model's context of ${nCtx} tokens: from here on the oldest tokens are dropped as it goes on.`)
          shifted = true
          visible = [...visible, id].slice(-keepOnShift)
          this.decoder.reset()
          logits = await this.decoder.next(visible)
        } else {
          visible.push(id)
          logits = await this.decoder.next([id])
        }
        // Let a stop request (an IPC message, a signal) in between tokens.
        await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      this.decoder.reset()
    }
    if (finalText === null) {
      const rest = stream.flush()
      if (rest) cb.onText?.(rest)
      finalText = stream.fullText
    }
    return {
      context,
      text: finalText,
      length: generated.length,
      finished: stopReason === 'end-of-text' || stopReason === 'stop-sequence',
      stopReason,
      message: notices.length ? notices.join(' ') : null,
      duration_seconds: (performance.now() - started) / 1000,
      promptTokens: history.length - generated.length,
      ids: generated
    }
  }

  dispose(): void {
    this.decoder.dispose()
  }
}

/** Sampling parameters that pick the argmax at every step. */
export function greedy(params: SamplingParams): SamplingParams {
  return { ...params, temperature: 0, topK: 0, topP: 0 }
}
