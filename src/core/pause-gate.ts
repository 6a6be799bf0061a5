// A worker's pause / cancel gate: pausePoint() callers wait while the job is paused and throw
// JobCancelled once it is cancelled. Each pause is one promise that resume or cancel settles, so
// every waiter is released (a single wake slot would wake only the last), and cancel also aborts
// the job's AbortSignal, for work that listens instead of yielding.
import { JobCancelled } from './job-context'

export class PauseGate {
  private readonly controller = new AbortController()
  /** Settles when the current pause ends; null while running. */
  private held: Promise<void> | null = null
  private release: (() => void) | null = null
  private parkedReported = false

  /** onParked runs once per pause, when the first caller actually stops at the gate. */
  constructor(private readonly onParked?: () => void) {}

  get signal(): AbortSignal {
    return this.controller.signal
  }

  get paused(): boolean {
    return this.held !== null
  }

  pause(): void {
    if (this.held || this.signal.aborted) return
    this.parkedReported = false
    this.held = new Promise((resolve) => (this.release = resolve))
  }

  resume(): void {
    this.release?.()
    this.held = null
    this.release = null
  }

  cancel(): void {
    if (!this.signal.aborted) this.controller.abort(new JobCancelled())
    this.resume()
  }

  /** Resolves at once (after yielding to the event loop) while running, waits while paused, throws JobCancelled. */
  async point(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve))
    while (this.held && !this.signal.aborted) {
      if (!this.parkedReported) {
        this.parkedReported = true
        this.onParked?.()
      }
      await this.held
    }
    if (this.signal.aborted) throw new JobCancelled()
  }
}
