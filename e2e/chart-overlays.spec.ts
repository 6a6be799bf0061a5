// The loss chart's overlays (issue 14, items 3 and 4) in Chromium over a real `gptw serve`: a run
// trained by the CLI is watched from the Evaluate view, then resumed from its step-2 checkpoint on
// its run page. The chart shows the resume as a marker, the run's line broken there, the steps
// the first job trained past step 2 as a superseded branch, and the watched evals of the
// checkpoints the resumed job saved as points on a second axis; hovering shows a marker's and a
// point's text (screenshots), and a click on a point opens the eval matrix at that checkpoint.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Locator, type Page, expect, test } from '@playwright/test'
import Database from 'better-sqlite3'
import { startFixtureServer } from '../test/eval/fixture-server'
import { startHost } from './web-host'

interface Placed {
  kind: 'y2' | 'marker'
  label: string
  x: number
  y: number
  key?: string
}
const overlay = async (chart: Locator): Promise<Placed[]> => JSON.parse((await chart.getAttribute('data-overlay')) ?? '[]') as Placed[]
const parts = async (page: Page): Promise<{ pieces: number; branches: number; markers: number; evals: number }> =>
  JSON.parse((await page.getByTestId('run-charts').first().getAttribute('data-loss-parts')) || '{}')

/** Whether the eval job the watch of run 1 started on checkpoint `step` has ended (read from the workspace's database). */
function watchEnded(workspace: string, step: number): boolean {
  const db = new Database(path.join(workspace, 'workbench.db'), { readonly: true })
  try {
    const row = db.prepare(`SELECT w.last_step AS step, j.state FROM eval_watches w LEFT JOIN jobs j ON j.id = w.last_job_id WHERE w.run_id = 1`).get() as
      { step: number | null; state: string | null } | undefined
    return row?.step === step && ['done', 'failed', 'cancelled'].includes(row.state ?? '')
  } finally {
    db.close()
  }
}

/** Moves the mouse onto a placed overlay (canvas pixels) and waits for the chart to draw the tooltip. */
async function hover(page: Page, chart: Locator, p: Placed): Promise<void> {
  await chart.scrollIntoViewIfNeeded()
  const box = (await chart.locator('canvas').boundingBox())!
  await page.mouse.move(box.x + p.x, box.y + p.y)
}

test('a watched, resumed run: resume marker, broken line, superseded branch, eval points that open the matrix', async ({ page }) => {
  test.setTimeout(240_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-overlay-'))
  const config = path.join(workspace, 'tiny.json')
  const tiny = {
    name: 'tiny',
    model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 },
    batchSize: 2,
    steps: 8,
    eval: { interval: 2, batches: 1 },
    checkpoint: { interval: 2, keepLast: 10 },
    backend: 'wasm',
    seed: 5
  }
  fs.writeFileSync(config, JSON.stringify(tiny))
  const trained = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'gptw.js'), 'train', '--config', config], {
    env: { ...process.env, GPTW_HOME: workspace },
    encoding: 'utf8',
    timeout: 120_000
  })
  expect(trained.status, trained.stderr).toBe(0)
  const server = await startFixtureServer()
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-limit').fill('2')
    await page.getByText('Data source').click()
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-watch-run').selectOption('1')
    await page.getByTestId('eval-watch-start').click()
    await expect(page.getByTestId('eval-watch-item').getByTestId('eval-watch-status')).toHaveText('waiting for its next checkpoint')

    // Before the resume: one unbroken line, no marker, no evals.
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row-1').click()
    const chart = page.getByTestId('chart-loss')
    await expect.poll(() => parts(page)).toEqual({ pieces: 1, branches: 0, markers: 0, evals: 0 })
    await page.getByTestId('resume-from-2').click()

    // The resume shows as a marker when its job starts, its branch once the worker loaded the
    // checkpoint; the resumed job trains 3-8 again and the watch evaluates the checkpoints it saves.
    await expect.poll(async () => (await parts(page)).markers, { timeout: 30_000 }).toBe(1)
    await expect.poll(async () => (await parts(page)).branches, { timeout: 60_000 }).toBe(1)
    await expect(page.getByTestId('run-loss-summary')).toContainText('at step 8', { timeout: 90_000 })
    // Step 4 is evaluated while training goes on, then the latest checkpoint waiting (8): wait
    // until the watch's eval of step 8 has ended, so the points no longer move.
    await expect.poll(() => watchEnded(workspace, 8), { timeout: 150_000 }).toBe(true)
    await expect.poll(async () => (await parts(page)).evals, { timeout: 30_000 }).toBeGreaterThanOrEqual(1)
    const p = await parts(page)
    // Steps 1-2 and 3-8 as two datasets, never joined; the first job's 3-8 as one superseded branch.
    expect(p.pieces).toBe(2)
    expect(p.branches).toBe(1)
    await expect(page.getByTestId('chart-eval-metric')).toHaveValue('copa/acc')

    const placed = await overlay(chart)
    const marker = placed.find((o) => o.kind === 'marker')!
    const points = placed.filter((o) => o.kind === 'y2' && o.key)
    expect(marker.label).toMatch(/^(run 1|#1) tiny resume from step 2$/)
    const steps = points.map((o) => (JSON.parse(o.key!) as { step: number }).step)
    expect(steps.every((s) => s > 2 && s % 2 === 0)).toBe(true)
    // Points sit right of the marker (later steps), inside the canvas.
    expect(points.every((o) => o.x > marker.x)).toBe(true)

    fs.mkdirSync('test-results/screens', { recursive: true })
    await hover(page, chart, marker)
    await expect(chart).toHaveAttribute('data-tooltip', /resumed from step 2 \(job \d+\)/)
    const markerTip = (await chart.getAttribute('data-tooltip'))!
    expect(markerTip).toMatch(/\nengine embedded, devices cpu:0\nbackend wasm \(/)
    expect(markerTip).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/)
    await chart.screenshot({ path: 'test-results/screens/chart-resume-marker.png' })
    const last = points[points.length - 1]
    await hover(page, chart, last)
    await expect(chart).toHaveAttribute('data-tooltip', new RegExp(`copa/acc \\d\\.\\d{4} ± \\d\\.\\d{4} at step ${(JSON.parse(last.key!) as { step: number }).step} \\(higher is better\\)`))
    await chart.screenshot({ path: 'test-results/screens/chart-eval-point.png' })
    await page.mouse.move(0, 0)
    await expect(chart).toHaveAttribute('data-tooltip', '')
    await page.getByTestId('run-charts').first().screenshot({ path: 'test-results/screens/chart-overlays.png' })

    // A click on the point: the Evaluate view, that checkpoint the matrix's first column, its score shown.
    await chart.scrollIntoViewIfNeeded()
    const box = (await chart.locator('canvas').boundingBox())!
    await page.mouse.click(box.x + last.x, box.y + last.y)
    const step = (JSON.parse(last.key!) as { step: number }).step
    await expect(page.getByTestId('eval-matrix')).toBeVisible()
    await expect(page.getByTestId('eval-col-0')).toHaveText(new RegExp(`run 1 step ${step}`))
    await expect(page.getByTestId('eval-cell-copa-acc-0')).toHaveText(/^\s*\d\.\d{4}/)
    await page.getByTestId('eval-matrix').screenshot({ path: 'test-results/screens/chart-eval-opened.png' })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    await server.close()
  }
})
