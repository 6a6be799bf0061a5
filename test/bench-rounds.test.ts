// gptw bench --rounds N: the runs of several rounds combine into one report, each measurement its
// fastest run's figures with the largest peak RSS any of its runs reached.
import { describe, expect, it } from 'vitest'
import { fastestRuns } from '../src/main/cli/bench'

describe('bench rounds', () => {
  it('keeps each part its fastest run and the largest peak RSS, and the rest from the first run', () => {
    const runs = [
      {
        train: { step_s: 1.4, tokens_per_s: 700, peak_rss_mb: 550 },
        'train-gpt2-small': { off: { tokens_per_s: 110, step_s: 9.3, peak_rss_mb: 2690 }, medium_checkpointed: { losses: [10.9], peak_rss_mb: 5780 } },
        pytorch: { train: { tokens_per_s: 500, peak_rss_mb: 1267 } },
        data: { mb_per_s: 12 }
      },
      {
        train: { step_s: 1.2, tokens_per_s: 850, peak_rss_mb: 548 },
        'train-gpt2-small': { off: { tokens_per_s: 100, step_s: 10.2, peak_rss_mb: 2700 }, medium_checkpointed: { losses: [10.9], peak_rss_mb: 5790 } },
        pytorch: { train: { tokens_per_s: 560, peak_rss_mb: 1260 } },
        data: { mb_per_s: 15 }
      }
    ]
    const out = fastestRuns(runs)
    expect(out.train).toEqual({ step_s: 1.2, tokens_per_s: 850, peak_rss_mb: 550, tokens_per_s_runs: [700, 850] })
    expect(out['train-gpt2-small']).toEqual({
      off: { tokens_per_s: 110, step_s: 9.3, peak_rss_mb: 2700, tokens_per_s_runs: [110, 100] },
      medium_checkpointed: { losses: [10.9], peak_rss_mb: 5790 }
    })
    expect(out.pytorch).toEqual({ train: { tokens_per_s: 560, peak_rss_mb: 1267, tokens_per_s_runs: [500, 560] } })
    expect(out.data).toEqual({ mb_per_s: 12 })
    expect(fastestRuns([runs[0]])).toBe(runs[0])
  })

  it('keeps a skip message as it is', () => {
    expect(fastestRuns([{ pytorch: 'skipped: no torch' }, { pytorch: 'skipped: no torch' }])).toEqual({ pytorch: 'skipped: no torch' })
  })
})
