// The Train form's errors (src/renderer/src/components/train/fields.ts) from the shared schema's
// real issues: sentences in the form's words, a rule between two fields under the one just
// changed, and one error for one cause (no "above the peak" beside an invalid peak).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { issueMessage } from '../src/renderer/src/components/train/config-paths'
import { formIssues } from '../src/renderer/src/components/train/fields'
import { TrainConfig } from '../src/shared/config/train'

const tiny = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'resources', 'presets', 'tiny-cpu.json'), 'utf8')).config as Record<string, unknown>

/** As the Train store's issues getter builds them: messages by dotted path, joined with "; ". */
function issuesOf(config: unknown): Record<string, string> {
  const result = TrainConfig.safeParse(config)
  if (result.success) return {}
  const out: Record<string, string> = {}
  for (const issue of result.error.issues) {
    const key = issue.path.join('.') || '(config)'
    out[key] = out[key] ? `${out[key]}; ${issueMessage(issue)}` : issueMessage(issue)
  }
  return out
}

function withValues(patch: (c: Record<string, Record<string, unknown>>) => void): { config: Record<string, unknown>; get: (p: string) => unknown } {
  const config = JSON.parse(JSON.stringify(tiny)) as Record<string, Record<string, unknown>>
  patch(config)
  const get = (p: string): unknown => p.split('.').reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), config)
  return { config, get }
}

describe('form issues', () => {
  it('the preset itself has none', () => {
    expect(formIssues(issuesOf(tiny), () => undefined, null)).toEqual({})
  })

  it('a divisibility rule shows under the field just changed, in the form words', () => {
    const { config, get } = withValues((c) => (c.model.nHead = 3))
    const issues = issuesOf(config)
    expect(issues['model.nEmbd']).toBe('nEmbd must be divisible by nHead')
    const underHeads = formIssues(issues, get, 'model.nHead')
    expect(underHeads).toEqual({ 'model.nHead': { text: 'Width 128 must be divisible by Attention heads 3: each head gets an equal share of the width', withRange: false } })
    expect(Object.keys(formIssues(issues, get, 'model.nEmbd'))).toEqual(['model.nEmbd'])
    expect(Object.keys(formIssues(issues, get, 'steps'))).toEqual(['model.nEmbd']) // an unrelated field: where the schema puts it
  })

  it('a negative learning rate is one error, not also "the final rate is above it"', () => {
    const { config, get } = withValues((c) => (c.optimizer.lr = -0.1))
    const issues = issuesOf(config)
    expect(Object.keys(issues).sort()).toEqual(['optimizer.lr', 'optimizer.minLr']) // the schema reports both
    expect(formIssues(issues, get, 'optimizer.lr')).toEqual({ 'optimizer.lr': { text: 'Learning rate must be more than 0', withRange: true } })
  })

  it('a final rate above a valid peak is reported once, in words', () => {
    const { config, get } = withValues((c) => (c.optimizer.minLr = 0.01))
    expect(formIssues(issuesOf(config), get, 'optimizer.minLr')).toEqual({ 'optimizer.minLr': { text: 'Final learning rate 0.01 is above the peak Learning rate 0.003', withRange: false } })
  })

  it('the batch split names devices and micro-batches and follows the micro-batches field', () => {
    const { config, get } = withValues((c) => (c.microBatches = 3 as never))
    expect(formIssues(issuesOf(config), get, 'microBatches')).toEqual({ microBatches: { text: 'Batch 16 must split evenly over 1 device × 3 micro-batches', withRange: false } })
  })

  it('plain problems keep the label and the range flag; settings without a field keep their path', () => {
    const steps = withValues((c) => (c.steps = 'x' as never))
    expect(formIssues(issuesOf(steps.config), steps.get, null)).toEqual({ steps: { text: 'Steps must be a number', withRange: true } })
    const parallel = withValues((c) => (c.parallel = { tensor: 2 }))
    expect(formIssues(issuesOf(parallel.config), parallel.get, null).parallel.text).toMatch(/^Parallelism: tensor parallel 2 x pipeline parallel 1 is not supported/)
  })
})
