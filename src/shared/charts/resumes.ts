// Pure logic for resumes on a run's chart: where the run's line is broken (one break per resume
// that still shows in it), the segments a series splits into there, which line (the current one
// or a superseded branch) an eval score belongs to, and the marker's hover text.
import type { EvalPoint, ResumeEvent } from '../run-series'

type Resume = Pick<ResumeEvent, 'id' | 'fromStep' | 'loadedAt'>

/**
 * The steps at which a line is broken by resumes, ascending. `beforeId` asks for the line as it
 * stood just before that resume (a superseded branch); by default the run's current line. A
 * resume counts once its worker loaded the checkpoint. A later resume from an earlier step takes
 * the steps past it off the line, breaks included: resumed at 20, then at 10, the line breaks at
 * 10 only (steps 11-20 and the break at 20 went to the second resume's branch).
 */
export function lineBreaks(resumes: readonly Resume[], beforeId = Infinity): number[] {
  const breaks: number[] = []
  for (const r of [...resumes].filter((r) => r.loadedAt !== null && r.id < beforeId).sort((a, b) => a.id - b.id)) {
    while (breaks.length && breaks[breaks.length - 1] > r.fromStep) breaks.pop()
    if (breaks[breaks.length - 1] !== r.fromStep) breaks.push(r.fromStep)
  }
  return breaks
}

/**
 * Cuts a step-sorted series at the breaks: [start, end) index ranges, a new one starting at the
 * first step past each break (the steps of a resume from step b start at b + 1). Empty input, no
 * ranges.
 */
export function splitAtBreaks(steps: ArrayLike<number>, breaks: readonly number[]): [number, number][] {
  const out: [number, number][] = []
  if (!steps.length) return out
  let start = 0
  let b = 0
  for (let i = 1; i < steps.length; i++) {
    while (b < breaks.length && breaks[b] < steps[i - 1]) b++
    if (b < breaks.length && steps[i - 1] <= breaks[b] && breaks[b] < steps[i]) {
      out.push([start, i])
      start = i
    }
  }
  out.push([start, steps.length])
  return out
}

/**
 * The resume whose branch holds an eval score, or null for the run's current line: the first
 * loaded resume after the score was stored that went back before the score's step (its
 * checkpoint was then trained again, so the score is of the superseded one).
 */
export function evalBranch(point: Pick<EvalPoint, 'step' | 'createdAt'>, resumes: readonly Resume[]): number | null {
  for (const r of [...resumes].sort((a, b) => a.id - b.id)) {
    if (r.loadedAt !== null && r.loadedAt >= point.createdAt && r.fromStep < point.step) return r.id
  }
  return null
}

/** A resume marker's hover text: one line per fact. */
export function resumeLines(r: ResumeEvent): string[] {
  return [
    `resumed from step ${r.fromStep}${r.jobId === null ? '' : ` (job ${r.jobId})`}`,
    `engine ${r.engine}, devices ${r.devices.join(', ') || '–'}`,
    `backend ${r.backend ?? 'not reported yet'}`,
    `${new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19)} UTC${r.loadedAt === null ? ' (checkpoint not loaded yet)' : ''}`
  ]
}

/** The eval key the chart's picker offers: task, metric and shots. */
export function evalKey(p: Pick<EvalPoint, 'task' | 'metric' | 'numFewshot'>): string {
  return `${p.task}/${p.metric}${p.numFewshot ? `/${p.numFewshot}-shot` : ''}`
}

/** An eval score's hover text: value ± standard error, and where it comes from. */
export function evalLine(p: EvalPoint): string {
  const f = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(1) : v.toFixed(4))
  return `${evalKey(p)} ${f(p.value)}${p.stderr === null ? '' : ` ± ${f(p.stderr)}`} at step ${p.step}${p.higherIsBetter ? ' (higher is better)' : ' (lower is better)'}`
}
