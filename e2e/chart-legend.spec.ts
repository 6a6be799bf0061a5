// The loss chart's legend and axes (issue 15, layout and look) in Chromium over a real `gptw
// serve`: runs written straight into the workspace database as the trainer's metric stream would
// (one with no steps yet, one with a single validation point, one resumed with validation every 10
// steps). The legend beside the canvas names each kind of line drawn, with its colour and dash, and
// a click hides that kind; a lone validation point is drawn as a dot, two or more as a dashed line;
// the empty chart's x axis starts at 0, and no two x tick labels overlap. Screenshots in light and
// dark at 1024x700 and 1440x900 under test-results/screens/chart-legend-*.png.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Locator, type Page, expect, test } from '@playwright/test'
import { TrainConfig } from '../src/shared/config/train'
import { openDatabase } from '../src/main/services/store/database'
import { RunsRepo } from '../src/main/services/store/runs-repo'
import { startHost } from './web-host'

interface DrawnSeries {
  label: string
  kind: string
  points: number
  radius: number
  dash: number[]
  visible: boolean
}
interface Tick {
  label: string
  x: number
}

/** Run 1: no steps. Run 2: 30 steps, validation at step 20 only. Run 3: 40 steps, validation every 10, resumed from step 20. Run 4: 106 steps (the axis ends off a round tick). */
function seedRuns(workspace: string): void {
  const db = openDatabase(path.join(workspace, 'workbench.db'))
  const runs = new RunsRepo(db)
  const config = TrainConfig.parse({ name: 'tiny', model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 }, batchSize: 2, steps: 40, eval: { interval: 10 } })
  const create = (name: string): number => runs.create(name, config, path.join(workspace, 'datasets', 'none'), (id) => path.join(workspace, 'runs', String(id))).id
  create('empty')
  const one = create('one validation')
  const resumed = create('resumed')
  const long = create('106 steps')
  db.transaction(() => {
    for (let step = 1; step <= 106; step++) {
      const loss = 3 + 7 * Math.exp(-step / 12)
      const at = { loss, lr: 3e-3, gradNorm: 1, tokensPerSec: 800, tokens: step * 64, elapsed: step * 0.5 }
      if (step <= 30) runs.addMetrics(one, step, { ...at, ...(step === 20 ? { valLoss: loss + 0.2 } : {}) })
      if (step <= 40) runs.addMetrics(resumed, step, { ...at, ...(step % 10 === 0 ? { valLoss: loss + 0.2 } : {}) })
      runs.addMetrics(long, step, at)
    }
    db.prepare(`INSERT INTO resume_events (run_id, job_id, from_step, engine, backend, devices, started_at, loaded_at) VALUES (?, NULL, 20, 'embedded', 'native', '["cpu"]', ?, ?)`).run(
      resumed,
      Date.now() - 60_000,
      Date.now() - 59_000
    )
  })()
  db.close()
}

const series = async (chart: Locator): Promise<DrawnSeries[]> => JSON.parse((await chart.getAttribute('data-series')) ?? '[]') as DrawnSeries[]
const ticks = async (chart: Locator): Promise<Tick[]> => JSON.parse((await chart.getAttribute('data-x-ticks')) ?? '[]') as Tick[]
const yTicks = async (chart: Locator): Promise<{ label: string; y: number }[]> => JSON.parse((await chart.getAttribute('data-y-ticks')) ?? '[]') as { label: string; y: number }[]

/** Every chart's y tick labels at least a label's height (12 px font) and some air apart. */
async function expectSpacedYTicks(page: Page): Promise<void> {
  for (const chart of await page.locator('.chart').all()) {
    const t = await yTicks(chart)
    for (let i = 1; i < t.length; i++) expect(Math.abs(t[i].y - t[i - 1].y), `y ticks ${t[i - 1].label} and ${t[i].label}`).toBeGreaterThanOrEqual(16)
  }
}

/** The x tick labels are distinct, and each pair of neighbours is further apart than half their widths (as drawn: Chart.js's 12 px font). */
async function expectReadableTicks(page: Page, chart: Locator): Promise<Tick[]> {
  const t = await ticks(chart)
  expect(t.length).toBeGreaterThanOrEqual(2)
  expect(new Set(t.map((x) => x.label)).size).toBe(t.length)
  // Measured in the page (this file has no DOM types: the script is a string).
  const widths = (await page.evaluate(
    `(() => { const c = document.createElement('canvas').getContext('2d'); c.font = "12px 'Helvetica Neue', 'Helvetica', 'Arial', sans-serif"; return ${JSON.stringify(t.map((x) => x.label))}.map((l) => c.measureText(l).width) })()`
  )) as number[]
  for (let i = 1; i < t.length; i++) expect(t[i].x - t[i - 1].x, `ticks ${t[i - 1].label} and ${t[i].label}`).toBeGreaterThan((widths[i - 1] + widths[i]) / 2 + 2)
  // Evenly spaced but for a last tick at the data's end, never much nearer its neighbour than the rest are.
  const gaps = t.slice(1).map((x, i) => x.x - t[i].x)
  for (const g of gaps) expect(g).toBeGreaterThanOrEqual(0.55 * Math.max(...gaps))
  return t
}

async function openRun(page: Page, id: number): Promise<Locator> {
  await page.getByTestId('nav-runs').click()
  await page.getByTestId(`run-row-${id}`).click()
  const chart = page.getByTestId('chart-loss')
  await expect(chart).toBeVisible()
  return chart
}

test('the loss chart: a legend of what it draws, a lone validation point as a dot, an x axis from 0 with readable ticks', async ({ page }) => {
  test.setTimeout(120_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-legend-'))
  seedRuns(workspace)
  const host = await startHost(workspace)
  const shots = 'test-results/screens'
  try {
    await page.setViewportSize({ width: 1024, height: 700 })
    await page.goto(host.url)

    // No steps yet: no legend (nothing drawn), an x axis from 0 in whole, distinct, separate ticks.
    let chart = await openRun(page, 1)
    await expect.poll(async () => (await ticks(chart)).length).toBeGreaterThanOrEqual(2)
    const empty = await expectReadableTicks(page, chart)
    expect(empty[0].label).toBe('0')
    for (const t of empty) expect(t.label).toMatch(/^\d+$/)
    await expect(chart.getByTestId('series-legend')).toHaveCount(0)
    await chart.scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${shots}/chart-legend-empty-1024.png` })

    // One validation point: drawn as a dot beside the train line; the legend names both.
    chart = await openRun(page, 2)
    await expect.poll(async () => (await series(chart)).filter((s) => s.kind === 'validation').length).toBe(1)
    const val = (await series(chart)).find((s) => s.kind === 'validation')!
    expect(val.points).toBe(1)
    expect(val.radius).toBeGreaterThanOrEqual(3)
    const items = chart.getByTestId('series-legend-item')
    await expect(items).toHaveText(['train loss', 'validation loss'])
    for (const item of await items.all()) await expect(item).toBeVisible()
    await expectReadableTicks(page, chart)
    // A steady tokens/s (800 every step, smoothed) gets a y axis around it, not 16-digit ticks a hair apart.
    const speedTicks = await yTicks(page.getByTestId('chart-tokensPerSec'))
    expect(speedTicks.length).toBeGreaterThanOrEqual(2)
    for (const t of speedTicks) expect(t.label.replace(/,/g, '').length, t.label).toBeLessThanOrEqual(4)
    await chart.scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${shots}/chart-legend-one-val-1024.png` })

    // Resumed, validation every 10 steps: validation dashed, a resume marker; legend in that order.
    await page.setViewportSize({ width: 1440, height: 900 })
    chart = await openRun(page, 3)
    await expect(items).toHaveText(['train loss', 'validation loss', 'resume'])
    const drawn = await series(chart)
    const dashed = drawn.filter((s) => s.kind === 'validation')
    expect(dashed.reduce((n, s) => n + s.points, 0)).toBe(4)
    for (const s of dashed) expect(s.dash.length).toBeGreaterThan(0)
    for (const s of drawn.filter((x) => x.kind === 'main')) expect(s.dash).toEqual([])
    await expectReadableTicks(page, chart)
    await chart.scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${shots}/chart-legend-resumed-1440-light.png` })

    // A click on an item hides that kind of line (and says so); a second click shows it again.
    const validation = chart.locator('[data-testid="series-legend-item"][data-kind="validation"]')
    const before = Number(await chart.getAttribute('data-drawn'))
    await validation.click()
    await expect(validation).toHaveAttribute('aria-pressed', 'false')
    await expect.poll(async () => (await series(chart)).filter((s) => s.kind === 'validation').every((s) => !s.visible)).toBe(true)
    expect(Number(await chart.getAttribute('data-drawn'))).toBe(before - 4)
    expect((await series(chart)).filter((s) => s.kind === 'main').every((s) => s.visible)).toBe(true)
    const resume = chart.locator('[data-testid="series-legend-item"][data-kind="resume"]')
    await resume.click()
    await expect.poll(async () => (JSON.parse((await chart.getAttribute('data-overlay')) ?? '[]') as unknown[]).length).toBe(0)
    await page.screenshot({ path: `${shots}/chart-legend-hidden-1440.png` })
    await validation.click()
    await resume.click()
    await expect(validation).toHaveAttribute('aria-pressed', 'true')
    await expect.poll(async () => Number(await chart.getAttribute('data-drawn'))).toBe(before)

    // Dark system theme: the same legend, readable on the dark panel.
    await page.emulateMedia({ colorScheme: 'dark' })
    await chart.scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${shots}/chart-legend-resumed-1440-dark.png` })
    await page.setViewportSize({ width: 1024, height: 700 })
    await expectReadableTicks(page, chart)
    await page.screenshot({ path: `${shots}/chart-legend-resumed-1024-dark.png` })

    // 106 steps: the axis ends past the round tick 100 without a crowding "106" beside it.
    chart = await openRun(page, 4)
    await expect.poll(async () => (await series(chart)).filter((s) => s.kind === 'main').length).toBeGreaterThan(0)
    const long = await expectReadableTicks(page, chart)
    expect(long.map((t) => t.label)).not.toContain('106')
    await expectSpacedYTicks(page)
    // Log scale: Chart.js places ticks at 1-9 x 10^n, unevenly; none crowd the next.
    const renders = Number(await chart.getAttribute('data-renders'))
    await page.getByTestId('chart-log').check()
    await expect.poll(async () => Number(await chart.getAttribute('data-renders'))).toBeGreaterThan(renders)
    console.log(`log y ticks, 106-step loss: ${(await yTicks(chart)).map((t) => `${t.label}@${t.y}`).join(' ')}`)
    await expectSpacedYTicks(page)
    await chart.scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${shots}/chart-legend-106-1024-dark.png` })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
