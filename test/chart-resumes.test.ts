// The resume marker logic of the loss chart (issue 14, item 4): where a run's line is broken,
// how a series splits there, which line an eval score belongs to, and the lines the chart draws
// for a run resumed twice (pieces of its current line, its superseded branches, its markers and
// eval points), each a separate dataset so nothing is joined across a resume.
import { describe, expect, it } from 'vitest'
import { evalBranch, evalKey, evalLine, lineBreaks, resumeLines, splitAtBreaks } from '../src/shared/charts/resumes'
import type { EvalPoint, ResumeEvent, RunOverlay } from '../src/shared/run-series'
import { type ChartRun, evalLines, resumeMarkers, runLines } from '../src/renderer/src/components/charts/chart-lines'

const resume = (id: number, fromStep: number, loadedAt: number | null = 1000 * id): ResumeEvent => ({
  id,
  runId: 1,
  jobId: 10 + id,
  fromStep,
  engine: 'embedded',
  backend: 'wasm (tfjs-backend-wasm, SIMD)',
  devices: ['cpu'],
  startedAt: Date.UTC(2026, 11, 2, 4, 30, 0),
  loadedAt
})

describe('lineBreaks', () => {
  it('breaks the line at each resume still on it, ascending', () => {
    expect(lineBreaks([])).toEqual([])
    expect(lineBreaks([resume(1, 10), resume(2, 30)])).toEqual([10, 30])
    // The same checkpoint twice: one break.
    expect(lineBreaks([resume(1, 10), resume(2, 10)])).toEqual([10])
  })

  it('drops the breaks a later resume from an earlier step took off the line', () => {
    // Resumed at 20 (trained on to 30), then at 10: steps 11-30 left the line, the break at 20 with them.
    expect(lineBreaks([resume(1, 20), resume(2, 10)])).toEqual([10])
    expect(lineBreaks([resume(1, 20), resume(2, 10), resume(3, 15)])).toEqual([10, 15])
    // Order is by id (the order the resumes happened), not as given.
    expect(lineBreaks([resume(2, 10), resume(1, 20)])).toEqual([10])
  })

  it('gives a superseded branch the breaks it had before its resume, and ignores resumes not loaded yet', () => {
    const rs = [resume(1, 20), resume(2, 10), resume(3, 5, null)]
    expect(lineBreaks(rs, 2)).toEqual([20])
    expect(lineBreaks(rs, 1)).toEqual([])
    expect(lineBreaks(rs)).toEqual([10])
  })
})

describe('splitAtBreaks', () => {
  it('starts a piece at the first step past each break', () => {
    const steps = [1, 2, 3, 4, 5, 6, 7, 8]
    expect(splitAtBreaks(steps, [])).toEqual([[0, 8]])
    expect(splitAtBreaks(steps, [3])).toEqual([
      [0, 3],
      [3, 8]
    ])
    expect(splitAtBreaks(steps, [3, 6])).toEqual([
      [0, 3],
      [3, 6],
      [6, 8]
    ])
    expect(splitAtBreaks([], [3])).toEqual([])
  })

  it('cuts sparse series (validation every 10 steps) between the points around a break, and ignores breaks outside', () => {
    expect(splitAtBreaks([10, 20, 30, 40], [25])).toEqual([
      [0, 2],
      [2, 4]
    ])
    expect(splitAtBreaks([10, 20, 30, 40], [20])).toEqual([
      [0, 2],
      [2, 4]
    ])
    expect(splitAtBreaks([10, 20, 30], [5, 40])).toEqual([[0, 3]])
    // Two breaks between the same two points: one cut.
    expect(splitAtBreaks([10, 20], [12, 15])).toEqual([
      [0, 1],
      [1, 2]
    ])
  })
})

describe('evalBranch', () => {
  it('puts a score stored before a resume that went back before its step on that resume', () => {
    const rs = [resume(1, 4, 5000), resume(2, 2, 9000)]
    expect(evalBranch({ step: 6, createdAt: 4000 }, rs)).toBe(1) // step 6 was trained again after resuming from 4
    expect(evalBranch({ step: 4, createdAt: 4000 }, rs)).toBe(2) // step 4 stayed until the resume from 2
    expect(evalBranch({ step: 2, createdAt: 4000 }, rs)).toBeNull() // the checkpoint resumed from is still on the line
    expect(evalBranch({ step: 6, createdAt: 9500 }, rs)).toBeNull() // scored after the last resume
    expect(evalBranch({ step: 6, createdAt: 4000 }, [resume(1, 4, null)])).toBeNull() // not loaded: nothing superseded yet
  })
})

describe('hover text', () => {
  it('says from which step, on which engine, backend and devices, and when', () => {
    expect(resumeLines(resume(1, 4))).toEqual(['resumed from step 4 (job 11)', 'engine embedded, devices cpu', 'backend wasm (tfjs-backend-wasm, SIMD)', '2026-12-02 04:30:00 UTC'])
    expect(resumeLines({ ...resume(1, 4, null), backend: null, jobId: null })).toEqual([
      'resumed from step 4',
      'engine embedded, devices cpu',
      'backend not reported yet',
      '2026-12-02 04:30:00 UTC (checkpoint not loaded yet)'
    ])
  })

  it('gives an eval score with its standard error', () => {
    const p: EvalPoint = { checkpoint: '/w/runs/1/checkpoints/step-6', step: 6, task: 'copa', metric: 'acc', numFewshot: 0, value: 0.55, stderr: 0.05, higherIsBetter: true, createdAt: 1 }
    expect(evalKey(p)).toBe('copa/acc')
    expect(evalKey({ ...p, numFewshot: 5 })).toBe('copa/acc/5-shot')
    expect(evalLine(p)).toBe('copa/acc 0.5500 ± 0.0500 at step 6 (higher is better)')
    expect(evalLine({ ...p, metric: 'ppl', value: 1234.5, stderr: null, higherIsBetter: false })).toBe('copa/ppl 1234.5 at step 6 (lower is better)')
  })
})

describe('chart lines of a resumed run', () => {
  // 30 steps trained; resumed from 20 (old 21-30 kept as branch 1, retrained to 30); then from 10
  // (21-30 of the second job and 11-20 of the first kept as branch 2, retrained to 25).
  const steps = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i)
  const col = (ss: number[], f: (s: number) => number) => ({ step: ss, value: ss.map(f) })
  const overlay: RunOverlay = {
    runId: 1,
    resumes: [resume(1, 20), resume(2, 10)],
    branches: [
      { resumeId: 1, series: { loss: col(steps(21, 30), (s) => 5 - s / 100) } },
      { resumeId: 2, series: { loss: col(steps(11, 30), (s) => 6 - s / 100) } }
    ],
    evals: [
      { checkpoint: '/w/runs/1/checkpoints/step-20', step: 20, task: 'copa', metric: 'acc', numFewshot: 0, value: 0.5, stderr: 0.05, higherIsBetter: true, createdAt: 1500 },
      { checkpoint: '/w/runs/1/checkpoints/step-10', step: 10, task: 'copa', metric: 'acc', numFewshot: 0, value: 0.45, stderr: 0.05, higherIsBetter: true, createdAt: 500 },
      { checkpoint: '/w/runs/1/checkpoints/step-20', step: 20, task: 'copa', metric: 'acc', numFewshot: 0, value: 0.6, stderr: 0.04, higherIsBetter: true, createdAt: 3000 },
      { checkpoint: '/w/runs/1/checkpoints/step-20', step: 20, task: 'lambada', metric: 'ppl', numFewshot: 0, value: 90, stderr: 3, higherIsBetter: false, createdAt: 3000 }
    ]
  }
  const run: ChartRun = {
    id: 1,
    label: '#1 r',
    color: '#2f6fdf',
    series: { loss: col(steps(1, 25), (s) => 10 - s / 10), tokens: col(steps(1, 25), (s) => s * 64) },
    version: 1,
    overlay,
    overlayVersion: 1
  }
  const o = { xAxis: 'step' as const, smoothing: 0, buckets: 500 }

  it('draws the current line in two pieces broken at the live resume, and each branch apart', () => {
    const lines = runLines(run, 'loss', o, { smoothed: true })
    expect(lines.map((l) => [l.label, l.points[0].x, l.points.at(-1)!.x, !!l.branch])).toEqual([
      ['#1 r', 1, 10, false],
      ['#1 r', 11, 25, false],
      // Branch 1 (steps 21-30 before the resume from 20) had no break inside it.
      ['#1 r (superseded by the resume from step 20)', 21, 30, true],
      // Branch 2 holds 11-30 as the line stood before the resume from 10: broken at 20.
      ['#1 r (superseded by the resume from step 10)', 11, 20, true],
      ['#1 r (superseded by the resume from step 10)', 21, 30, true]
    ])
    // No point is joined across a break: the pieces hold every point once.
    expect(lines.filter((l) => !l.branch).reduce((n, l) => n + l.points.length, 0)).toBe(25)
  })

  it('smooths each piece on its own (no average across a resume)', () => {
    const [, second] = runLines(run, 'loss', { ...o, smoothing: 0.9 }, { smoothed: true }).filter((l) => !l.faint && !l.branch)
    expect(second.points[0]).toEqual({ x: 11, y: 10 - 11 / 10 })
  })

  it('puts a marker at each resume, on the tokens axis at the tokens of its step', () => {
    const markers = resumeMarkers(run, 'step')
    expect(markers.map((m) => [m.axis, m.points])).toEqual([
      [
        'marker',
        [
          { x: 20, y: 0 },
          { x: 20, y: 1 }
        ]
      ],
      [
        'marker',
        [
          { x: 10, y: 0 },
          { x: 10, y: 1 }
        ]
      ]
    ])
    expect(markers[0].tips![0]).toContain('resumed from step 20 (job 11)')
    expect(resumeMarkers(run, 'tokens')[1].points[0].x).toBe(640)
  })

  it('draws the picked eval as points on the second axis, a superseded score apart and not clickable', () => {
    const [current, old] = evalLines(run, 'copa/acc', 'step')
    expect(current).toMatchObject({
      axis: 'y2',
      pointsOnly: true,
      points: [
        { x: 10, y: 0.45 },
        { x: 20, y: 0.6 }
      ]
    })
    expect(JSON.parse(current.keys![1])).toEqual({ runId: 1, step: 20, checkpoint: '/w/runs/1/checkpoints/step-20' })
    expect(current.tips![1]).toContain('copa/acc 0.6000 ± 0.0400 at step 20 (higher is better)')
    // Scored at 1500, before the resume from 10 (loaded at 2000) took step 20 off the line.
    expect(old).toMatchObject({ branch: true, points: [{ x: 20, y: 0.5 }] })
    expect(old.keys).toBeUndefined()
    expect(evalLines(run, 'lambada/ppl', 'step').map((l) => l.points)).toEqual([[{ x: 20, y: 90 }]])
    expect(evalLines(run, 'hellaswag/acc', 'step')).toEqual([])
  })
})
