// The tokenize job through the workbench API: the input checked before a worker starts, the
// output folder chosen in the workspace, and the finished shards offered as a dataset.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Workbench } from '../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, sotuSpeeches, tempDir, waitFor } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

describe('tokenize through the API', () => {
  it('refuses a missing input without starting a job', async () => {
    const wb = workbench()
    const reply = await wb.call('jobs.start', { kind: 'tokenize', params: { input: '/no/such/corpus.txt' } })
    expect(reply).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringContaining('/no/such/corpus.txt does not exist') } })
    expect(wb.jobs.list(10)).toEqual([])
  })

  it('writes shards under the workspace and lists them as a dataset named after the input', async () => {
    const wb = workbench()
    const input = path.join(tempDir(), 'Two Speeches.txt')
    fs.writeFileSync(input, sotuSpeeches().slice(0, 2).join('\n\n'))
    const reply = await wb.call('jobs.start', { kind: 'tokenize', params: { input, valFraction: 0.1 } })
    if (!reply.ok) throw new Error(reply.error.message)
    const params = reply.value.params as { outDir: string; name: string }
    expect(params.name).toBe('Two Speeches')
    expect(params.outDir).toMatch(new RegExp(`^${wb.workspace.datasetsDir}/two-speeches-[a-z0-9]+/tokens$`))
    await waitFor(() => wb.jobs.get(reply.value.id)?.state === 'done', 60_000, 'the tokenize job')
    const dataset = await waitFor(() => wb.datasets.list().find((d) => d.path === params.outDir), 10_000, 'the dataset row')
    const meta = JSON.parse(fs.readFileSync(path.join(params.outDir, 'meta.json'), 'utf8')) as { splits: Record<string, { tokens: number }> }
    expect(dataset.name).toBe('Two Speeches')
    expect(meta.splits.train.tokens).toBeGreaterThan(1000)
    expect(dataset.meta).toEqual({ trainTokens: meta.splits.train.tokens, valTokens: meta.splits.val.tokens, source: input })
    expect(fs.readdirSync(params.outDir).sort()).toEqual(['meta.json', 'train.bin', 'val.bin'])
  })
})
