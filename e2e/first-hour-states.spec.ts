// Honest job states in Chromium through the web host (issue 15): an eval with no network ends
// failed, its causes grouped in the Jobs pane and failure cells (reason, Retry) in the matrix, and
// a Retry against a reachable source fills the cell; Stop asks first and keeps a checkpoint at the
// current step; a loaded generation model sits in "Loaded models", not among the jobs.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import type { CheckpointInfo, Run } from '../src/shared/runs'
import { startFixtureServer } from '../test/eval/fixture-server'
import { randomCheckpoint } from '../test/eval/random-checkpoint'
import { type RunningHost, startHost } from './web-host'

async function api<T>(host: RunningHost, method: string, params: unknown = {}): Promise<T> {
  const token = new URL(host.url).searchParams.get('token')
  const res = await fetch(`${host.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(params) })
  const body = (await res.json()) as { ok: true; value: T } | { ok: false; error: { message: string } }
  if (!body.ok) throw new Error(`${method}: ${body.error.message}`)
  return body.value
}

function workspace(name: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gptw-e2e-${name}-`))
}

async function shoot(page: Page, name: string): Promise<void> {
  for (const [w, h] of [
    [1440, 900],
    [1024, 700]
  ]) {
    await page.setViewportSize({ width: w, height: h })
    await page.screenshot({ path: `test-results/screens/first-hour-${name}-${w}x${h}.png` })
  }
  await page.emulateMedia({ colorScheme: 'dark' })
  await page.screenshot({ path: `test-results/screens/first-hour-${name}-dark-1024x700.png` })
  await page.emulateMedia({ colorScheme: 'light' })
  await page.setViewportSize({ width: 1440, height: 900 })
}

test.setTimeout(240_000)

test('an eval with no network ends failed: causes grouped, failure cells with the reason, and Retry fills a cell', async ({ page }) => {
  const root = workspace('fh-eval')
  const dirs = [1, 2].map((seed) => {
    const dir = path.join(root, 'outside', `ckpt-${seed}`, `step-${seed * 100}`)
    randomCheckpoint(dir, { seed, nCtx: 64 })
    return dir
  })
  const server = await startFixtureServer()
  const host = await startHost(root)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    for (const dir of dirs) {
      await page.getByTestId('eval-folder').fill(dir)
      await page.getByTestId('eval-folder-add').click()
    }
    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-task-lambada').check()
    await page.getByText('Data source').click()
    // no network: nothing listens on port 9
    const offline = 'http://127.0.0.1:9'
    await page.getByTestId('eval-hf-base').fill(`${offline}/hf`)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(Object.fromEntries(Object.keys(server.sources.mirrors).map((o) => [o, `${offline}/mirror`]))))
    await page.getByTestId('eval-verify').uncheck()
    await page.getByTestId('eval-run').click()

    const job = page.getByTestId('eval-job')
    await expect(job).toHaveAttribute('data-state', 'failed', { timeout: 60_000 })
    await expect(page.getByTestId('eval-job-text')).toContainText('All 4 task runs failed (2 causes)')
    const pane = page.locator('[data-testid^="job-"][data-state="failed"]').first()
    await expect(pane.getByTestId('job-state')).toHaveText('failed')
    await expect(pane.getByTestId('job-text')).toHaveText('All 4 task runs failed (2 causes):')
    await expect(pane.getByTestId('job-causes').locator('li')).toHaveCount(2)
    await expect(pane.getByTestId('job-causes')).toContainText('2 × copa:')
    // the matrix is drawn: a failure cell per task and checkpoint, with the reason and a Retry
    for (const task of ['copa', 'lambada']) for (const i of [0, 1]) await expect(page.getByTestId(`eval-failed-${task}-${i}`)).toContainText('failed')
    await expect(page.getByTestId('eval-failed-copa-0')).toContainText('127.0.0.1:9')
    await expect(page.getByTestId('eval-failures').locator('li')).toHaveCount(2)
    await page.getByTestId('eval-matrix').scrollIntoViewIfNeeded()
    await shoot(page, 'eval-offline')

    // back online (the stand-in hosts), retry one cell: it runs that task on that checkpoint only
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-retry-copa-1').click()
    await expect(page.getByTestId('eval-cell-copa-acc-1')).toHaveText(/\d\.\d{4}/, { timeout: 60_000 })
    await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
    await expect(page.getByTestId('eval-job-text')).toContainText('done: 1 task run on 1 checkpoint')
    await expect(page.getByTestId('eval-failed-copa-0')).toBeVisible()
    await expect(page.getByTestId('eval-failed-copa-1')).toHaveCount(0)
  } finally {
    await host.stop()
    await server.close()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(root, { recursive: true, force: true })
  }
})

test('Stop asks, keeps a checkpoint at the current step and says how many steps it kept', async ({ page }) => {
  const root = workspace('fh-stop')
  const host = await startHost(root)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    // no checkpoint before the stop: every step so far would be lost without one
    const config = { model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 }, batchSize: 2, steps: 100000, eval: { interval: 0 }, checkpoint: { interval: 100000 }, backend: 'wasm', name: 'e2e stop' }
    const job = await api<{ id: number }>(host, 'jobs.start', { kind: 'train', params: { config } })
    const row = page.getByTestId(`job-${job.id}`)
    await expect(row).toHaveAttribute('data-state', 'running', { timeout: 60_000 })
    await expect(row.getByRole('button', { name: /^job \d+ · train$/ })).toBeVisible()
    await expect.poll(async () => (await api<unknown[]>(host, 'runs.metrics', { id: 1 })).length, { timeout: 90_000 }).toBeGreaterThan(5)
    await row.getByTestId('job-cancel').click()
    const dialog = page.getByTestId('stop-dialog')
    await expect(dialog).toBeVisible()
    await expect(dialog).toContainText(`Stop job ${job.id} (train)?`)
    await expect(dialog.getByTestId('stop-checkpoint')).toBeChecked()
    await shoot(page, 'stop-dialog')
    // "Keep running" leaves it running
    await dialog.getByTestId('stop-dismiss').click()
    await expect(dialog).toBeHidden()
    await expect(row).toHaveAttribute('data-state', 'running')
    await row.getByTestId('job-cancel').click()
    await dialog.getByTestId('stop-confirm').click()
    await expect(row).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 })
    const text = (await row.getByTestId('job-text').textContent()) ?? ''
    const m = /^Stopped at step (\d+): saved a checkpoint there, keeping the (\d+) steps since the start\.$/.exec(text.trim())
    expect(m, text).not.toBeNull()
    expect(m![1]).toBe(m![2])
    const run = await api<Run & { checkpoints: CheckpointInfo[] }>(host, 'runs.get', { id: 1 })
    expect(run.checkpoints.map((c) => c.step)).toEqual([Number(m![1])])
    await shoot(page, 'stopped')
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(root, { recursive: true, force: true })
  }
})

test('a loaded model is listed under Loaded models with its memory and Unload, not as a job', async ({ page }) => {
  const root = workspace('fh-models')
  const dir = path.join(root, 'models', 'step-7')
  randomCheckpoint(dir, { seed: 7, nCtx: 64 })
  const host = await startHost(root)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await expect(page.getByTestId('loaded-models')).toContainText('None')
    const session = await api<{ jobId: number }>(host, 'generate.load', { checkpoint: dir })
    const entry = page.getByTestId(`loaded-${session.jobId}`)
    await expect(entry).toHaveAttribute('data-state', 'ready', { timeout: 60_000 })
    await expect(entry).toContainText('models/step-7')
    await expect(entry).toContainText(`job ${session.jobId}`)
    await expect(entry).toContainText(/weights \d+(\.\d)? MiB/)
    await expect(page.getByTestId(`job-${session.jobId}`)).toHaveCount(0)
    await expect(entry.getByRole('button', { name: /pause|cancel|stop/i })).toHaveCount(0)
    await shoot(page, 'loaded-models')
    await entry.getByTestId('loaded-unload').click()
    await expect(entry).toHaveCount(0)
    await expect(page.getByTestId('loaded-models')).toContainText('None')
    const job = await api<{ state: string; error: string | null }>(host, 'jobs.get', { id: session.jobId })
    expect(job).toMatchObject({ state: 'done', error: null })
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(root, { recursive: true, force: true })
  }
})

test('seed import: a builder the config never imports becomes a warning, and its shape constants fill the form', async ({ page }) => {
  const root = workspace('fh-seed')
  const file = path.join(root, 'gpt2_custom.py')
  fs.writeFileSync(
    file,
    [
      'from colossalai.amp import AMP_TYPE',
      'BATCH_SIZE = 4',
      'SEQ_LEN = 256',
      'HIDDEN_SIZE = 384',
      'NUM_ATTENTION_HEADS = 6',
      'DEPTH = 4',
      'NUM_EPOCHS = 1',
      'optimizer = dict(type=Adam, lr=0.0003)',
      'model = dict(type=GPTLMModel, checkpoint=False)',
      ''
    ].join('\n')
  )
  const host = await startHost(root)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await page.getByTestId('nav-train').click()
    await page.getByTestId('seed-file').setInputFiles(file)
    const mapping = page.getByTestId('seed-mapping')
    await expect(mapping).toContainText('Imported gpt2_custom.py')
    await expect(mapping).toContainText('"GPTLMModel" is neither assigned nor imported before it is used; it is kept as an opaque symbol')
    await expect(mapping).toContainText('"Adam" is neither assigned nor imported')
    const mapped = mapping.locator('[data-testid="seed-item"][data-status="mapped"]')
    await expect(mapped.filter({ hasText: 'HIDDEN_SIZE' })).toContainText('model.nEmbd')
    await expect(mapped.filter({ hasText: 'DEPTH' })).toContainText('model.nLayer')
    await expect(page.getByTestId('field-model.nEmbd')).toHaveValue('384')
    await expect(page.getByTestId('field-model.nHead')).toHaveValue('6')
    await expect(page.getByTestId('field-model.nLayer')).toHaveValue('4')
    await expect(page.getByTestId('field-model.nCtx')).toHaveValue('256')
    await expect(page.getByTestId('seed-error')).toHaveCount(0)
    await mapping.scrollIntoViewIfNeeded()
    await shoot(page, 'seed-import')
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(root, { recursive: true, force: true })
  }
})
