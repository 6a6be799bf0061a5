// What a pipeline stage sees while it runs (its settings, the dataset folder, the job), and the
// tally it keeps: items in, kept, dropped by reason, notes, bytes, and a sample of what it kept
// and dropped for the wizard's previews.
import type { PrepareConfig, PrepareStage, SampleDoc, StageLive, StageSamples } from '../../../shared/config/prepare'
import type { JobContext } from '../../job-context'

const KEPT_SAMPLES = 12
const DROPPED_SAMPLES_PER_REASON = 4
const EXCERPT_CHARS = 1200

export interface StageEnv {
  /** The dataset folder; every stage reads and writes its files here. */
  dir: string
  config: PrepareConfig
  job: JobContext
  tally: StageTally
}

export interface StageDef {
  name: PrepareStage
  /** The settings and inputs this stage's output depends on, besides the stages before it. */
  fingerprint(config: PrepareConfig, dir: string): unknown
  /** Runs the stage; returns the names of the files it wrote (relative to the dataset folder). */
  run(env: StageEnv): Promise<string[]>
}

export function excerpt(text: string, chars = EXCERPT_CHARS): string {
  return text.length <= chars ? text : text.slice(0, chars) + '…'
}

export class StageTally {
  input = 0
  kept = 0
  readonly dropped: Record<string, number> = {}
  readonly notes: Record<string, number> = {}
  bytesIn = 0
  bytesOut = 0
  readonly samples: StageSamples = { kept: [], dropped: [] }
  private readonly preferredKept: boolean[] = []
  private readonly started = Date.now()

  constructor(
    private readonly onProgress: (live: StageLive) => void,
    /** Every dropped item, one {url, reason, detail?} line each (dropped/<stage>.jsonl). */
    private readonly dropLog?: { write(value: unknown): void }
  ) {}

  /** Counts a kept item; `sample` (built lazily) goes into the preview while there is room. */
  keep(sample?: () => SampleDoc, preferred = false): void {
    this.kept++
    if (!sample) return
    const kept = this.samples.kept
    if (kept.length < KEPT_SAMPLES) {
      kept.push(trimSample(sample()))
      this.preferredKept.push(preferred)
    } else if (preferred) {
      // Interesting examples (e.g. text that cleaning repaired) displace ordinary ones, up to half.
      const plain = this.preferredKept.indexOf(false)
      if (plain !== -1 && this.preferredKept.filter(Boolean).length < KEPT_SAMPLES / 2) {
        kept[plain] = trimSample(sample())
        this.preferredKept[plain] = true
      }
    }
  }

  /** Counts a dropped item and logs it; `detail` says more (the kept duplicate, the HTTP error). */
  drop(reason: string, url: string, opts: { detail?: string; sample?: () => Omit<SampleDoc, 'reason'> } = {}): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1
    this.dropLog?.write(opts.detail === undefined ? { url, reason } : { url, reason, detail: opts.detail })
    const sample = opts.sample
    if (sample && this.dropped[reason] <= DROPPED_SAMPLES_PER_REASON) this.samples.dropped.push(trimSample({ ...sample(), reason }))
  }

  note(name: string, n = 1): void {
    this.notes[name] = (this.notes[name] ?? 0) + n
  }

  get droppedTotal(): number {
    return Object.values(this.dropped).reduce((a, b) => a + b, 0)
  }

  /** Reports progress: `done` of `total` items (or bytes, per `unit`), with `bytes` processed so far. */
  progress(done: number, total: number, unit: string, bytes = this.bytesIn): void {
    const seconds = Math.max((Date.now() - this.started) / 1000, 1e-3)
    const rate = bytes / seconds
    const etaSeconds = done > 0 && total >= done ? ((total - done) * seconds) / done : null
    this.onProgress({ done, total, unit, bytes, rate, etaSeconds })
  }
}

function trimSample(s: SampleDoc): SampleDoc {
  return { ...s, text: excerpt(s.text), ...(s.before !== undefined ? { before: excerpt(s.before) } : {}) }
}
