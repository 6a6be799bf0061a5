// The API the Train view and run pages add: metric series in columns (whole, by name, tail) and
// named configs saved as files the CLI reads, through the real Workbench over a temp workspace.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { TrainConfig } from '../src/shared/config/train'
import { readConfigFile } from '../src/main/cli/config-file'
import { parseTrainConfig } from '../src/main/services/training'
import { Workbench } from '../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

const config = TrainConfig.parse({ model: { nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 32 }, batchSize: 4, steps: 50, optimizer: { lr: 0.006 } })

describe('runs.series', () => {
  it('returns each metric as step and value columns, filtered by name and cut to a tail', async () => {
    const wb = workbench()
    const run = wb.runs.create('series', config, '/data/none', (id) => path.join(wb.workspace.runsDir, String(id)))
    for (let step = 1; step <= 30; step++) wb.runs.addMetrics(run.id, step, { loss: 11 - step / 10, tokens: step * 128, ...(step % 10 === 0 ? { valLoss: 10 - step / 10 } : {}) })
    const all = await wb.call('runs.series', { id: run.id })
    if (!all.ok) throw new Error(all.error.message)
    expect(Object.keys(all.value.series).sort()).toEqual(['loss', 'tokens', 'valLoss'])
    expect(all.value.series.valLoss).toEqual({ step: [10, 20, 30], value: [9, 8, 7] })
    expect(all.value.series.loss.step).toHaveLength(30)
    const tail = await wb.call('runs.series', { id: run.id, names: ['loss'], tail: 3, afterStep: 5 })
    expect(tail.ok && tail.value).toEqual({ runId: run.id, series: { loss: { step: [28, 29, 30], value: [11 - 2.8, 11 - 2.9, 8] } } })
    const missing = await wb.call('runs.series', { id: 999 })
    expect(missing).toEqual({ ok: false, error: { code: 'not_found', message: 'Run 999 does not exist.' } })
  })
})

describe('configs.save / list / delete', () => {
  it('saves a named config as a file that gptw train --config reads back', async () => {
    const wb = workbench()
    const saved = await wb.call('configs.save', { name: 'tiny fast-lr', config })
    if (!saved.ok) throw new Error(saved.error.message)
    expect(saved.value.path).toBe(path.join(wb.workspace.root, 'configs', 'tiny fast-lr.json'))
    expect(parseTrainConfig(readConfigFile(saved.value.path), saved.value.path)).toEqual({ ...config, name: 'tiny fast-lr' })
    await wb.call('configs.save', { name: 'another', config: { ...config, steps: 7 } })
    const list = await wb.call('configs.list', undefined)
    expect(list.ok && list.value.map((c) => [c.name, c.config?.steps])).toEqual([
      ['another', 7],
      ['tiny fast-lr', 50]
    ])
    const left = await wb.call('configs.delete', { name: 'another' })
    expect(left.ok && left.value.map((c) => c.name)).toEqual(['tiny fast-lr'])
  })

  it('names the problem: a bad name, an invalid config, a file edited into nonsense', async () => {
    const wb = workbench()
    const badName = await wb.call('configs.save', { name: '../escape', config })
    expect(badName.ok).toBe(false)
    expect(!badName.ok && badName.error.message).toContain('configs.save: name: use letters, digits')
    const badConfig = await wb.call('configs.save', { name: 'x', config: { ...config, batchSize: 0 } })
    expect(!badConfig.ok && badConfig.error.message).toContain('config.batchSize')
    fs.mkdirSync(path.join(wb.workspace.root, 'configs'), { recursive: true })
    fs.writeFileSync(path.join(wb.workspace.root, 'configs', 'broken.json'), '{"model": {}}')
    const list = await wb.call('configs.list', undefined)
    expect(list.ok && list.value[0]).toMatchObject({ name: 'broken', config: null })
    expect(list.ok && list.value[0].error).toContain('model.nLayer')
    const gone = await wb.call('configs.delete', { name: 'nothing' })
    expect(gone).toEqual({ ok: false, error: { code: 'not_found', message: 'No saved config named "nothing".' } })
  })
})
