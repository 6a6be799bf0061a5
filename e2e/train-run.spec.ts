// Click-to-train in Chromium against the web host, on the Moby Dick sample: start a small run,
// watch the loss chart grow and the loss fall, pause and resume, stop, reopen the run after a
// host restart with its chart intact, resume it from a kept checkpoint to the end; and compare
// two runs on one chart.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import type { LogPage } from '../src/shared/api'
import type { Job } from '../src/shared/jobs'
import type { MetricPoint } from '../src/shared/runs'
import { PAUSED_LOG_LINE } from '../src/core/job-context'
import { lossSummary, rawPoints, typeSmallConfig, waitForStep } from './train-helpers'
import { type RunningHost, startHost } from './web-host'

/** Calls the web host's API over HTTP with the session token; returns the value of the envelope. */
async function api<T>(host: RunningHost, method: string, params: unknown = {}): Promise<T> {
  const token = new URL(host.url).searchParams.get('token')
  const res = await fetch(`${host.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(params) })
  const body = (await res.json()) as { ok: true; value: T } | { ok: false; error: { message: string } }
  if (!body.ok) throw new Error(`${method}: ${body.error.message}`)
  return body.value
}

test.setTimeout(180_000)

test('train, pause, resume, stop, survive a restart, resume from a checkpoint', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-run-'))
  let host = await startHost(workspace)
  const errors: string[] = []
  page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && errors.push(`${m.text()} ${m.location().url}`))
  try {
    await page.goto(host.url)
    await typeSmallConfig(page, { steps: 50, name: 'e2e small' })
    await page.getByTestId('train-start').click()

    // The run plays live in the Train view: the chart fills and the loss falls.
    const live = page.getByTestId('live-run')
    await expect(live).toContainText('Run 1 e2e small')
    const summary = page.getByTestId('live-summary')
    const early = await waitForStep(summary, 3)
    const grown = await waitForStep(summary, 12)
    expect(grown.step).toBeGreaterThan(early.step)
    expect(grown.last).toBeLessThan(grown.first - 1) // from ~10.8 (ln 50257) down by more than a nat
    await expect.poll(() => rawPoints(page)).toBeGreaterThanOrEqual(12)
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-drawn'))).toBeGreaterThan(12)
    await expect(live).toContainText('backend')
    await page.screenshot({ path: 'test-results/screens/train-view-live.png' })

    // Pause: the chart stops growing; resume: it grows again.
    await live.getByTestId('run-pause').click()
    await expect(live.getByTestId('run-state')).toHaveText('paused')
    // The worker logs when the pause has taken hold between steps; the steps it finished before are stored by then.
    const trainJob = (await api<Job[]>(host, 'jobs.list')).find((j) => j.kind === 'train')!
    await expect.poll(async () => (await api<LogPage>(host, 'jobs.logs', { id: trainJob.id })).lines.map((l) => l.text), { timeout: 30_000 }).toContain(PAUSED_LOG_LINE)
    const storedSteps = async (): Promise<number> => (await api<MetricPoint[]>(host, 'runs.metrics', { id: 1 })).filter((p) => p.name === 'loss').length
    const held = await storedSteps()
    // The chart shows every stored step and no more, and nothing was stored while the chart caught up.
    await expect.poll(() => rawPoints(page)).toBe(held)
    expect(await storedSteps()).toBe(held)
    await live.getByTestId('run-resume').click()
    await expect(live.getByTestId('run-state')).toHaveText('running')
    await expect.poll(() => rawPoints(page), { timeout: 30_000 }).toBeGreaterThan(held + 2)

    // Stop after the step-20 checkpoint.
    await waitForStep(summary, 22)
    await live.getByTestId('run-stop').click()
    await page.getByTestId('stop-confirm').click() // Stop asks first (a checkpoint at the current step ticked)
    await expect(live.getByTestId('run-state')).toHaveText('cancelled', { timeout: 20_000 })
    const stopped = (await lossSummary(summary))!

    // The run page: backend, devices, checkpoints with size and validation loss.
    await page.getByTestId('live-open').click()
    const run = page.getByTestId('run-page')
    await expect(run).toHaveAttribute('data-run-id', '1')
    await expect(run.getByTestId('run-backend')).not.toContainText('chosen when')
    await expect(run.getByTestId('run-devices')).toHaveText('cpu:0')
    await expect(run.getByTestId('checkpoint-10')).toContainText(/\d+(\.\d)? (KiB|MiB)/)
    await expect(run.getByTestId('checkpoint-20')).toContainText(/\d\.\d{4}/) // its validation loss
    await expect(run.getByTestId('log')).toContainText('Dataset')
    await expect(run.getByTestId('run-config')).toContainText('nCtx: 32')
    const pointsBefore = await rawPoints(page)
    expect(pointsBefore).toBe(stopped.step)

    // Restart the host on the same workspace: the run, its chart and its checkpoints are all there.
    await host.stop()
    host = await startHost(workspace)
    await page.goto(host.url)
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row-1').click()
    await expect(page.getByTestId('run-loss-summary')).toHaveText(new RegExp(`at step ${stopped.step}`))
    await expect.poll(() => rawPoints(page)).toBe(pointsBefore)
    expect(Number(await page.getByTestId('chart-loss').getAttribute('data-drawn'))).toBeGreaterThan(pointsBefore)
    await expect(page.getByTestId('run-state')).toHaveText('cancelled')
    await page.screenshot({ path: 'test-results/screens/run-after-restart.png' })

    // Resume from the step-20 checkpoint: points after 20 are dropped, and the run trains to its end.
    await page.getByTestId('resume-from-20').click()
    await expect(page.getByTestId('run-state')).toHaveText(/running|queued/)
    const runSummary = page.getByTestId('run-loss-summary')
    await expect.poll(async () => (await lossSummary(runSummary))?.step ?? 99, { timeout: 30_000 }).toBeLessThanOrEqual(21)
    await expect(page.getByTestId('run-state')).toHaveText('done', { timeout: 90_000 })
    const done = (await lossSummary(runSummary))!
    expect(done.step).toBe(50)
    expect(done.last).toBeLessThan(stopped.first - 1.5)
    await expect(page.getByTestId('checkpoint-50')).toBeVisible()
    expect(await rawPoints(page)).toBe(50)
    await expect(page.getByTestId('run-page').getByRole('button', { name: /job \d+ \(done\)/ })).toBeVisible() // the second job's log
    // The socket dropped during the restart; anything else logged as an error is a fault.
    expect(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e))).toEqual([])
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})

test('compare two runs on one chart', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-compare-'))
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    for (const [name, lr] of [
      ['fast lr', 0.006],
      ['slow lr', 0.001]
    ] as const) {
      await typeSmallConfig(page, { steps: 12, name, 'optimizer.lr': lr, 'optimizer.minLr': lr / 10 })
      await page.getByTestId('train-start').click()
      await expect(page.getByTestId('live-run')).toContainText(name)
      await expect(page.getByTestId('live-run').getByTestId('run-state')).toHaveText('done', { timeout: 90_000 })
    }
    await page.getByTestId('live-open').click()
    await expect(page.getByTestId('run-page')).toHaveAttribute('data-run-id', '2')
    await page.getByTestId('compare-1').check()
    const legend = page.getByTestId('chart-legend-item')
    await expect(legend).toHaveCount(2)
    await expect(legend.nth(0)).toContainText('run 2 slow lr')
    await expect(legend.nth(1)).toContainText('run 1 fast lr')
    await expect(page.getByTestId('run-charts')).toHaveAttribute('data-raw-points', '24')
    // Both runs on the loss chart: smoothed and raw train lines plus validation, for each run.
    await expect.poll(async () => Number(await page.getByTestId('chart-loss').getAttribute('data-drawn'))).toBeGreaterThanOrEqual(2 * (12 + 12 + 2))
    await page.getByTestId('chart-x').selectOption('tokens')
    await page.getByTestId('chart-log').check()
    await page.getByTestId('chart-smoothing').fill('0')
    await expect.poll(async () => Number(await page.getByTestId('chart-loss').getAttribute('data-drawn'))).toBe(2 * (12 + 2))
    await page.screenshot({ path: 'test-results/screens/runs-compare.png' })
    await page.getByTestId('compare-1').uncheck()
    await expect(legend).toHaveCount(1)
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
