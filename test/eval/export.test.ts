// The results matrix as Markdown, CSV and JSON (what `gptw eval` prints and the view exports):
// tasks and metrics down, checkpoints across in the order chosen, empty cells where a checkpoint
// has no value, the published reference where one exists, CSV fields quoted where needed.
import { describe, expect, it } from 'vitest'
import type { EvalResultRow } from '../../src/shared/eval'
import { matrixLines, toCsv, toJson, toMarkdown } from '../../src/shared/eval-export'

const row = (checkpoint: string, task: string, metric: string, value: number, stderr: number | null, over: Partial<EvalResultRow> = {}): EvalResultRow => ({
  checkpoint,
  fingerprint: checkpoint.length.toString(16).padStart(64, '0'),
  task,
  version: 0,
  metric,
  value,
  stderr,
  higherIsBetter: metric !== 'ppl',
  numFewshot: 0,
  documents: 10,
  limit: null,
  jobId: 1,
  createdAt: 0,
  ...over
})
const columns = [
  { checkpoint: '/runs/1/step-200', label: 'run 1 step 200' },
  { checkpoint: '/x/gpt2, "small"', label: 'gpt2 | small' }
]
const rows = [
  row('/runs/1/step-200', 'lambada', 'ppl', 51234.5, 1200),
  row('/runs/1/step-200', 'lambada', 'acc', 0.25, 0.01),
  row('/x/gpt2, "small"', 'lambada', 'acc', 0.3256, 0.0065),
  row('/x/gpt2, "small"', 'cb', 'f1', 0.4, null, { limit: 5, documents: 5 }),
  row('/elsewhere', 'copa', 'acc', 1, 0)
]

describe('matrix export', () => {
  it('lines up cells by task and metric, one column per chosen checkpoint', () => {
    const lines = matrixLines(rows, columns)
    expect(lines.map((l) => `${l.task} ${l.metric}`)).toEqual(['cb f1', 'lambada acc', 'lambada ppl'])
    expect(lines[1].cells.map((c) => c?.value ?? null)).toEqual([0.25, 0.3256])
    expect(lines[0].cells[0]).toBeNull()
  })

  it('writes Markdown with the reference column and its source', () => {
    expect(toMarkdown(rows, columns, [{ jobId: 1, checkpoint: '/runs/1/step-200', numFewshot: 0, task: 'cb', message: 'cb: HTTP 404' }])).toBe(
      [
        '| Task | Version | Metric | n-shot | run 1 step 200 | gpt2 \\| small | GPT-2 small (124M) (published) |',
        '|---|---:|---|---:|---:|---:|---:|',
        '| cb | 0 | f1 ↑ | 0 |  | 0.4000 |  |',
        '| lambada | 0 | acc ↑ | 0 | 0.2500 ± 0.0100 | 0.3256 ± 0.0065 | 0.3256 ± 0.0065 |',
        '| lambada | 0 | ppl ↓ | 0 | 5.123e+4 ± 1.200e+3 |  | 40.0554 ± 1.4787 |',
        '',
        'Not evaluated:',
        '- cb on run 1 step 200: cb: HTTP 404',
        '',
        'Reference: lm-evaluation-harness on Hugging Face gpt2, task lambada_openai (the same OpenAI LAMBADA file), zero-shot; EleutherAI/lm-evaluation-harness issue #2159 (https://github.com/EleutherAI/lm-evaluation-harness/issues/2159)',
        ''
      ].join('\n')
    )
  })

  it('writes long-format CSV, quoting fields with commas and quotes', () => {
    const lines = toCsv(rows, columns).trim().split('\n')
    expect(lines).toHaveLength(5)
    expect(lines[1]).toBe(`"/x/gpt2, ""small""",gpt2 | small,${'0'.repeat(62)}10,cb,0,f1,0.4,,1,0,5,5,,`)
    expect(lines[3]).toMatch(/^"\/x\/gpt2, ""small""",.*,lambada,0,acc,0\.3256,0\.0065,1,0,10,,0\.3256,0\.0065$/)
  })

  it('writes JSON keyed by checkpoint with the reference beside the values', () => {
    const json = JSON.parse(toJson(rows, columns)) as {
      results: { task: string; metric: string; reference: { value: number } | null; values: Record<string, { value: number; limit: number | null }> }[]
    }
    const acc = json.results.find((r) => r.task === 'lambada' && r.metric === 'acc')!
    expect(acc.reference?.value).toBe(0.3256)
    expect(Object.keys(acc.values)).toEqual(['/runs/1/step-200', '/x/gpt2, "small"'])
    expect(json.results.find((r) => r.task === 'cb')!.values['/x/gpt2, "small"'].limit).toBe(5)
  })
})
