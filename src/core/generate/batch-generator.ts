// Continuous batching over one loaded GPT: sequences are submitted at any time, wait in a bounded
// queue, join the running batch (up to maxBatch) after a prefill (together with the others joining
// then whose prompts have the same length), and are decoded together, one batched forward per step
// (BatchDecoder: attention too is one set of ops for all of them, whatever their lengths), each
// with its own seeded RNG, penalties, stop sequences and token limit; they
// leave as they finish or are cancelled (a client went away), and the next waiting one takes the
// slot. What a sequence gets never depends on its neighbours:
// decoded in a batch of 16 or alone, with its seed it gives the same tokens.
import { decodeTokens } from '../data/gpt2-tokenizer'
import type { GPT } from '../engine/model'
import { BatchDecoder, type DecoderCache, type StepDecoder } from './batch-decoder'
import { SequenceState } from './sequence-state'

export interface BatchSampling {
  /** 0 is greedy (the argmax). */
  temperature: number
  /** Nucleus mass; 1 (or 0) keeps every token. */
  topP: number
  /** 0 keeps every token. */
  topK: number
  /** CTRL / Hugging Face repetition penalty over the prompt and the generated tokens; 1 is off. */
  repetitionPenalty: number
  /** OpenAI's: subtracted from the logit of every token already generated. */
  presencePenalty: number
  /** OpenAI's: subtracted once per earlier occurrence of the token among the generated ones. */
  frequencyPenalty: number
  seed: number
}

export interface SequenceRequest {
  /** The prompt's token ids (at least one, at most the model's context). */
  ids: number[]
  /** Tokens to generate at most (0: only the prompt is read, for promptLogprobs). */
  maxTokens: number
  sampling: BatchSampling
  /** Generation ends before the first of these appears; it is not part of the text. */
  stop: string[]
  /** End-of-text ends the generation (not part of the text). */
  stopAtEndOfText: boolean
  /** Likeliest alternatives reported with each token's log-probability; null reports none. */
  logprobs: number | null
  /** Also the log-probabilities of the prompt's own tokens (each given the ones before it). */
  promptLogprobs: boolean
  /**
   * At the model's context, drop the oldest quarter of the window and read the rest again, going
   * on until another limit (the Generate view's and `gptw generate`'s way); else it ends there ('length').
   */
  slide?: boolean
}

export interface TokenLogprob {
  id: number
  /** Natural log of the model's probability of this token (raw logits: before temperature, penalties or filters). */
  logprob: number
  /** The likeliest tokens at this position, likeliest first. */
  top: { id: number; logprob: number }[]
}

export type FinishReason = 'stop' | 'length' | 'cancelled'

export interface SequenceResult {
  /** Generated ids (end-of-text excluded; tokens past a stop sequence's start included). */
  ids: number[]
  /** Generated text, cut before a stop sequence. */
  text: string
  finishReason: FinishReason
  /** Per prompt token (the first has no context: null), when asked for. */
  promptLogprobs: (TokenLogprob | null)[] | null
  /** Per generated token, when logprobs were asked for. */
  tokens: TokenLogprob[]
  /** With finishReason 'stop': what stopped it. */
  stoppedBy?: 'end-of-text' | 'stop-sequence'
  /** Times the window moved past the context (slide). */
  slides?: number
}

export interface SequenceCallbacks {
  /** Text newly safe to show, with the generated tokens' logprobs since the last call (when asked for). */
  onText?(delta: string, tokens: TokenLogprob[]): void
  /** The window is about to move past the model's context (slide), the n-th time. */
  onSlide?(n: number): void
  /** Polled before each token: true ends the sequence as cancel() does. */
  shouldStop?(): boolean
}

export interface SequenceHandle {
  result: Promise<SequenceResult>
  /** Ends the sequence at the next step (finishReason 'cancelled') or drops it from the queue. */
  cancel(): void
}

export class QueueFullError extends Error {}

export interface BatchGeneratorOptions {
  /** Sequences decoded together at most. */
  maxBatch?: number
  /** Sequences waiting for a slot at most; past it submit throws QueueFullError. */
  maxQueue?: number
  /** What computes the logits; by default a BatchDecoder over the model (which must then be a GPT). */
  decoder?: StepDecoder
}

/** What generation needs of the model itself: its shape (the decoder does the computing). */
export type ModelShape = Pick<GPT, 'config'>

export interface BatchStats {
  /** Sequences finished (any reason). */
  sequences: number
  /** Tokens generated. */
  tokens: number
  /** Prompt tokens read, and the prefill forwards that read them (prompts of one length joining together share one). */
  promptTokens: number
  prefills: number
  /** Decode steps run and the sequences they carried (their ratio is the mean batch). */
  steps: number
  stepRows: number
}

/** A sequence's state (sequence-state.ts) and its place in the batch. */
class Sequence extends SequenceState {
  cache: DecoderCache | null = null
  /** The token to feed at the next step. */
  pending = -1
  /** The window is full: it moves before the next step (slide). */
  refill = false
}

export class BatchGenerator<M extends ModelShape = GPT> {
  readonly maxBatch: number
  readonly maxQueue: number
  readonly stats: BatchStats = { sequences: 0, tokens: 0, promptTokens: 0, prefills: 0, steps: 0, stepRows: 0 }
  private readonly decoder: StepDecoder
  private readonly vocab: number
  private waiting: Sequence[] = []
  private active: Sequence[] = []
  private running = false
  private closed = false

  constructor(
    readonly model: M,
    options: BatchGeneratorOptions = {}
  ) {
    this.decoder = options.decoder ?? new BatchDecoder(model as ModelShape as GPT)
    this.vocab = model.config.vocabSize
    this.maxBatch = Math.max(1, options.maxBatch ?? 16)
    this.maxQueue = Math.max(0, options.maxQueue ?? 64)
  }

  /** Sequences decoding now and waiting for a slot. */
  get load(): { active: number; waiting: number } {
    return { active: this.active.length, waiting: this.waiting.length }
  }

  /** Would `count` more sequences be taken now (a free slot or room in the queue for each)? */
  canTake(count: number): boolean {
    const free = Math.max(0, this.maxBatch - this.active.length - this.waiting.length)
    return !this.closed && this.waiting.length + Math.max(0, count - free) <= this.maxQueue
  }

  submit(req: SequenceRequest, cb: SequenceCallbacks = {}): SequenceHandle {
    if (this.closed) throw new Error('The generator is closed.')
    if (!this.canTake(1)) throw new QueueFullError(`The queue is full (${this.maxQueue} waiting, ${this.maxBatch} decoding).`)
    const { nCtx } = this.model.config
    if (!req.ids.length) throw new Error('The prompt has no tokens.')
    if (req.ids.length > nCtx) throw new Error(`The prompt has ${req.ids.length} tokens, more than the model's context of ${nCtx}.`)
    const bad = req.ids.find((id) => !Number.isInteger(id) || id < 0 || id >= this.vocab)
    if (bad !== undefined) throw new Error(`Token ${bad} is outside the model's vocabulary of ${this.vocab}.`)
    let seq!: Sequence
    const result = new Promise<SequenceResult>((resolve, reject) => {
      seq = new Sequence(req, cb, this.vocab, resolve, reject)
    })
    this.waiting.push(seq)
    void this.run()
    return {
      result,
      cancel: () => {
        seq.cancelled = true
        const i = this.waiting.indexOf(seq)
        if (i >= 0) {
          this.waiting.splice(i, 1)
          this.finish(seq, 'cancelled')
        }
      }
    }
  }

  /** Cancels everything queued and running and waits for the loop to stop. */
  async close(): Promise<void> {
    this.closed = true
    for (const s of [...this.waiting, ...this.active]) s.cancelled = true
    while (this.running) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const s of this.waiting.splice(0)) this.finish(s, 'cancelled')
  }

  private async run(): Promise<void> {
    if (this.running) return
    this.running = true
    try {
      // Starting from idle: let requests that arrive together (their I/O is already queued) submit
      // first, so they are prefilled and decoded together rather than one step apart.
      for (let turn = 0; turn < 3 && this.waiting.length < this.maxBatch; turn++) await new Promise((resolve) => setImmediate(resolve))
      while (this.waiting.length || this.active.length) {
        // Waiting sequences take the free slots; those of one prompt length are prefilled together.
        const joining = this.waiting.splice(0, Math.max(0, this.maxBatch - this.active.length))
        this.active.push(...joining)
        const byLength = new Map<number, Sequence[]>()
        for (const s of joining) {
          if (s.cancelled) this.finish(s, 'cancelled')
          else byLength.set(s.req.ids.length, [...(byLength.get(s.req.ids.length) ?? []), s])
        }
        for (const group of byLength.values()) {
          try {
            await this.start(group)
          } catch (err) {
            for (const s of group) this.fail(s, err as Error)
          }
        }
        const live = this.active.filter((s) => !s.done)
        for (const s of live) if (s.cancelled) this.finish(s, 'cancelled')
        for (const s of live) {
          if (!s.done && s.refill) {
            try {
              await this.slide(s)
            } catch (err) {
              this.fail(s, err as Error)
            }
          }
        }
        const batch = live.filter((s) => !s.done && !s.refill)
        if (batch.length) {
          try {
            const rows = await this.decoder.step(
              batch.map((s) => s.cache!),
              batch.map((s) => s.pending)
            )
            this.stats.steps++
            this.stats.stepRows += batch.length
            for (const [b, s] of batch.entries()) this.advance(s, rows[b])
          } catch (err) {
            for (const s of batch) this.fail(s, err as Error)
          }
        }
        this.active = this.active.filter((s) => !s.done)
        // Let requests, cancellations and writes to clients in between steps; with free slots a few
        // turns, so a request part-way through its HTTP exchange joins at the next step.
        const turns = this.active.length < this.maxBatch ? 3 : 1
        for (let turn = 0; turn < turns; turn++) await new Promise((resolve) => setImmediate(resolve))
      }
    } finally {
      this.running = false
    }
  }

  /** Prefill (prompts of one length together), then each one's first token from its prompt's last logits. */
  private async start(group: Sequence[]): Promise<void> {
    const results = await this.decoder.prefillGroup(
      group.map((s) => s.req.ids),
      group.some((s) => s.req.promptLogprobs)
    )
    this.stats.prefills++
    for (const [g, s] of group.entries()) {
      const { cache, rows } = results[g]
      s.cache = cache
      this.stats.promptTokens += s.req.ids.length
      if (s.req.promptLogprobs) s.readPrompt(rows)
      if (s.req.maxTokens <= 0) this.finish(s, 'length')
      else this.advance(s, rows[rows.length - 1])
    }
  }

  /**
   * The window is full: its oldest quarter goes, the rest (ending with the token just chosen) is
   * read again into a new cache, and the next token comes from its last logits.
   */
  private async slide(s: Sequence): Promise<void> {
    const { nCtx } = this.model.config
    const keep = nCtx - Math.max(1, Math.floor(nCtx / 4))
    s.cache?.dispose()
    s.cache = null
    s.slides++
    s.cb.onSlide?.(s.slides)
    const [{ cache, rows }] = await this.decoder.prefillGroup([s.history.slice(-keep)])
    s.cache = cache
    s.refill = false
    this.stats.prefills++
    this.advance(s, rows[rows.length - 1])
  }

  /** Chooses the sequence's next token from its logits and decides whether it goes on. */
  private advance(s: Sequence, logits: Float32Array): void {
    if (!s.cancelled && s.cb.shouldStop?.()) s.cancelled = true
    if (s.cancelled) return this.finish(s, 'cancelled')
    const before = s.generated.length
    const next = s.next(logits)
    this.stats.tokens += s.generated.length - before
    if ('end' in next) return this.finish(s, next.end)
    if (s.cache!.length + 1 > this.model.config.nCtx) {
      if (!s.req.slide) return this.finish(s, 'length')
      s.refill = true
    }
    s.pending = next.id
  }

  private finish(s: Sequence, reason: FinishReason): void {
    if (s.done) return
    s.cache?.dispose()
    s.cache = null
    this.stats.sequences++
    s.finish(reason)
  }

  private fail(s: Sequence, err: Error): void {
    if (s.done) return
    s.cache?.dispose()
    s.cache = null
    s.fail(err)
  }
}

/** Decoded text of ids, for callers that show tokens (logprobs) by their text. */
export function tokenText(id: number): string {
  return decodeTokens([id])
}
