// Turns generated token ids into text safe to show as it grows: a token that ends inside a UTF-8
// character waits for the rest of it, and text that could be the start of a stop sequence waits
// until it is clearly not one, so a stop sequence never reaches the reader. (What Transformers.js's
// TextStreamer does for the first, and what OpenAI-style stop handling does for the second.)
import { decodeTokens } from '../data/gpt2-tokenizer'

const REPLACEMENT = '\uFFFD'

export interface StreamStep {
  /** Text newly safe to show. */
  delta: string
  /** Set when a stop sequence appeared: the final text, cut just before it. */
  stoppedAt: string | null
}

export class TextStream {
  private readonly ids: number[] = []
  private shown = 0
  private text = ''

  constructor(
    private readonly stops: readonly string[] = [],
    private readonly decode: (ids: readonly number[]) => string = decodeTokens
  ) {}

  push(id: number): StreamStep {
    this.ids.push(id)
    this.text = this.decode(this.ids)
    const stop = this.firstStop()
    if (stop !== null) {
      const final = this.text.slice(0, stop)
      const delta = final.slice(this.shown)
      this.shown = final.length
      return { delta, stoppedAt: final }
    }
    let safe = this.text.length
    // An incomplete character decodes as U+FFFD at the end; hold it back until its bytes arrive.
    while (safe > this.shown && this.text[safe - 1] === REPLACEMENT) safe--
    safe = Math.min(safe, this.text.length - this.heldForStops())
    if (safe <= this.shown) return { delta: '', stoppedAt: null }
    const delta = this.text.slice(this.shown, safe)
    this.shown = safe
    return { delta, stoppedAt: null }
  }

  /** The rest of the text once generation ends without a stop sequence. */
  flush(): string {
    const delta = this.text.slice(this.shown)
    this.shown = this.text.length
    return delta
  }

  /** All text so far (complete, not cut for stop sequences). */
  get fullText(): string {
    return this.text
  }

  private firstStop(): number | null {
    let best: number | null = null
    for (const s of this.stops) {
      // A stop can only have completed in the text not shown yet plus its own length before.
      const from = Math.max(0, this.shown - s.length + 1)
      const at = this.text.indexOf(s, from)
      if (at >= 0 && (best === null || at < best)) best = at
    }
    return best
  }

  /** The length of the longest end of the text that is a proper start of a stop sequence. */
  private heldForStops(): number {
    let held = 0
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.text.length); n > held; n--) {
        if (this.text.endsWith(s.slice(0, n))) {
          held = n
          break
        }
      }
    }
    return held
  }
}
