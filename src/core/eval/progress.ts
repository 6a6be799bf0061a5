// The eval job's progress line: requests answered of the total, the model's rate (cache hits
// are free, so they count toward progress but not toward the rate) and the time left at it.
//   ckpt 1/2 step-100 | hellaswag | 1200/40168 requests | 35.2 req/s | eta 18m27s

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

export class EvalProgress {
  private done = 0
  private computed = 0
  private computeSeconds = 0
  private lastAt = Date.now()

  constructor(
    readonly total: number,
    private readonly emit: (done: number, total: number, text: string) => void,
    private readonly now: () => number = Date.now
  ) {
    this.lastAt = now()
  }

  /** Marks the start of a stretch of model work (time spent elsewhere does not count toward the rate). */
  resumeClock(): void {
    this.lastAt = this.now()
  }

  answered(count: number, source: 'cache' | 'model', where: string): void {
    const t = this.now()
    if (source === 'model') {
      this.computed += count
      this.computeSeconds += (t - this.lastAt) / 1000
    }
    this.lastAt = t
    this.done = Math.min(this.total, this.done + count)
    this.emit(this.done, this.total, this.line(where))
  }

  /** Requests per second the model has answered (cache hits excluded). */
  get rate(): number {
    return this.computeSeconds > 0 ? this.computed / this.computeSeconds : 0
  }

  line(where: string): string {
    const rate = this.rate
    const left = this.total - this.done
    const eta = rate > 0 ? formatDuration(left / rate) : '?'
    return `${where} | ${this.done}/${this.total} requests | ${rate ? rate.toFixed(1) : '–'} req/s | eta ${left === 0 ? '0s' : eta}`
  }
}
