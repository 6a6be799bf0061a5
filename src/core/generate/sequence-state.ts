// One generated sequence's state and the one place that turns its chosen tokens into stream events
// and finish reasons, for both generators: BatchGenerator (the embedded engine, batched decode
// steps) and TorchBatchGenerator (model servers). Each feeds it logits and keeps its own cache.
import { END_OF_TEXT } from '../data/gpt2-tokenizer'
import { Rng } from '../rng'
import type { FinishReason, SequenceCallbacks, SequenceRequest, SequenceResult, TokenLogprob } from './batch-generator'
import { chooseToken, tokenLogprob } from './sampling'
import { TextStream } from './text-stream'

export class SequenceState {
  readonly rng: Rng
  /** The prompt and the tokens generated so far (repetition penalty's context, slide's window). */
  readonly history: number[]
  readonly generated: number[] = []
  private readonly counts = new Map<number, number>()
  private readonly stream: TextStream
  private readonly tokens: TokenLogprob[] = []
  private unsent: TokenLogprob[] = []
  private promptLogprobs: (TokenLogprob | null)[] | null = null
  /** The text cut before a stop sequence, once one appeared. */
  private stopText: string | null = null
  private stoppedBy: SequenceResult['stoppedBy']
  slides = 0
  cancelled = false
  done = false

  constructor(
    readonly req: SequenceRequest,
    readonly cb: SequenceCallbacks,
    private readonly vocab: number,
    private readonly resolve: (r: SequenceResult) => void,
    private readonly reject: (err: Error) => void
  ) {
    this.rng = new Rng(req.sampling.seed)
    this.history = [...req.ids]
    this.stream = new TextStream(req.stop)
  }

  /** The prompt's own log-probabilities from the logits after each of its positions (rows[i] predicts ids[i + 1]). */
  readPrompt(rows: readonly Float32Array[]): void {
    const k = this.req.logprobs ?? 0
    this.promptLogprobs = this.req.ids.map((id, i) => (i === 0 ? null : tokenLogprob(rows[i - 1], this.vocab, id, k)))
  }

  /**
   * Chooses the next token from its logits and records it (text out through onText): the token
   * when the sequence goes on, else why it ended ('stop': end-of-text or a stop sequence,
   * 'length': maxTokens reached). The caller checks its window and finishes it with the reason.
   */
  next(logits: Float32Array): { id: number } | { end: FinishReason } {
    const id = chooseToken(logits, this.vocab, this.req.sampling, this.history, this.rng, this.counts)
    if (this.req.stopAtEndOfText && id === END_OF_TEXT) {
      this.stoppedBy = 'end-of-text'
      return { end: 'stop' }
    }
    this.generated.push(id)
    this.history.push(id)
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1)
    if (this.req.logprobs !== null) {
      const t = tokenLogprob(logits, this.vocab, id, this.req.logprobs)
      this.tokens.push(t)
      this.unsent.push(t)
    }
    const step = this.stream.push(id)
    if (step.delta) this.emit(step.delta)
    if (step.stoppedAt !== null) {
      this.stopText = step.stoppedAt
      this.stoppedBy = 'stop-sequence'
      return { end: 'stop' }
    }
    if (this.generated.length >= this.req.maxTokens) return { end: 'length' }
    return { id }
  }

  /** Ends it (once): the held-back text and logprobs go out, then the result. */
  finish(reason: FinishReason): void {
    if (this.done) return
    this.done = true
    // After a stop sequence the text is cut before it (and all of that was sent); else the held-back rest goes now.
    const rest = this.stopText === null ? this.stream.flush() : ''
    if (rest || this.unsent.length) this.emit(rest)
    const text = this.stopText ?? this.stream.fullText
    this.resolve({
      ids: this.generated,
      text,
      finishReason: reason,
      promptLogprobs: this.promptLogprobs,
      tokens: this.tokens,
      stoppedBy: this.stoppedBy,
      slides: this.slides
    })
  }

  fail(err: Error): void {
    if (this.done) return
    this.done = true
    this.reject(err)
  }

  private emit(delta: string): void {
    const tokens = this.unsent
    this.unsent = []
    try {
      this.cb.onText?.(delta, tokens)
    } catch {
      // A callback's failure (a closed socket) must not stop the other sequences.
    }
  }
}
