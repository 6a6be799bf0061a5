// The prepare job through the workbench API, as the wizard drives it: inputs checked before a
// worker starts, one job per dataset folder, the finished dataset listed for the wizard and
// offered to the Train view (the datasets table).
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { PrepareConfigInput } from '../src/shared/config/prepare'
import { Workbench } from '../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, sotuSpeeches, tempDir } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

function speechesFile(count: number): string {
  const file = path.join(tempDir(), 'speeches.jsonl')
  fs.writeFileSync(
    file,
    sotuSpeeches()
      .slice(0, count)
      .map((text, i) => JSON.stringify({ text, url: `https://sotu.example/${i}` }))
      .join('\n')
  )
  return file
}

describe('prepare through the API', () => {
  it('refuses missing sources and bad settings before starting anything', async () => {
    const wb = workbench()
    const missing = await wb.call('jobs.start', { kind: 'prepare', params: { config: { sources: { jsonFiles: ['/no/such/file.jsonl'] } } } })
    expect(missing).toMatchObject({ ok: false, error: { code: 'bad_input', message: expect.stringContaining('/no/such/file.jsonl (sources.jsonFiles) does not exist') } })
    const bad = await wb.call('jobs.start', { kind: 'prepare', params: { config: { sources: {}, dedupe: { groupJaccard: 0.3 } } } })
    expect(bad).toMatchObject({ ok: false, error: { code: 'bad_input' } })
    expect(!bad.ok && bad.error.message).toMatch(/give at least one source/)
    expect(!bad.ok && bad.error.message).toMatch(/groupJaccard \(0\.3\) must be at least candidateJaccard \(0\.5\)/)
    expect(wb.jobs.list(10)).toEqual([])
  })

  it('runs a job to a listed dataset whose shards the Train view is offered; one job per folder at a time', async () => {
    const wb = workbench()
    const config: PrepareConfigInput = { name: 'Speeches via API', sources: { jsonFiles: [speechesFile(20)] } }
    const started = await wb.call('jobs.start', { kind: 'prepare', params: { config } })
    if (!started.ok) throw new Error(started.error.message)
    const datasetDir = (started.value.params as { datasetDir: string }).datasetDir
    expect(path.dirname(datasetDir)).toBe(wb.workspace.datasetsDir)
    expect(path.basename(datasetDir)).toMatch(/^speeches-via-api-/)

    const twice = await wb.call('jobs.start', { kind: 'prepare', params: { config, datasetDir } })
    expect(twice).toMatchObject({ ok: false, error: { code: 'conflict', message: expect.stringContaining(`is already preparing ${datasetDir}`) } })

    const done = await wb.supervisor.waitForExit(started.value.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect(done.result).toMatchObject({ documents: 20, tokensDir: path.join(datasetDir, 'tokens') })

    const list = await wb.call('prepare.list', {})
    expect(list.ok && list.value).toEqual([expect.objectContaining({ id: path.basename(datasetDir), name: 'Speeches via API', state: 'done', documents: 20 })])
    const detail = await wb.call('prepare.get', { id: path.basename(datasetDir) })
    if (!detail.ok) throw new Error(detail.error.message)
    expect(detail.value.manifest?.stages.clean.kept).toBe(20)
    expect(detail.value.samples.clean?.kept.length).toBeGreaterThan(0)
    expect(detail.value.duplicates).toMatchObject({ documents: 20 })
    const datasets = await wb.call('datasets.list', {})
    expect(datasets.ok && datasets.value.map((d) => d.path)).toContain(path.join(datasetDir, 'tokens'))

    expect(await wb.call('prepare.get', { id: '../../etc' })).toMatchObject({ ok: false, error: { code: 'bad_input' } })
    expect(await wb.call('prepare.get', { id: 'nope' })).toMatchObject({ ok: false, error: { code: 'not_found' } })
  })
})
