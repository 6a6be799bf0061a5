// Charts at 100k points: a run with 100,000 recorded steps (written straight into the workspace
// database, as the trainer's metric stream would over days) opens with its whole curve, drawn
// decimated to a few thousand points. The costs are printed for the record, never asserted.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { TrainConfig } from '../src/shared/config/train'
import { openDatabase } from '../src/main/services/store/database'
import { RunsRepo } from '../src/main/services/store/runs-repo'
import { startHost } from './web-host'

const STEPS = 100_000

function seedLongRun(workspace: string): void {
  const db = openDatabase(path.join(workspace, 'workbench.db'))
  const runs = new RunsRepo(db)
  const config = TrainConfig.parse({ name: 'long run', model: { nLayer: 2, nHead: 4, nEmbd: 64, nCtx: 64 }, batchSize: 8, steps: STEPS, eval: { interval: 500 } })
  const run = runs.create('long run', config, path.join(workspace, 'datasets', 'none'), (id) => path.join(workspace, 'runs', String(id)))
  let seed = 7
  const noise = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5
  db.transaction(() => {
    for (let step = 1; step <= STEPS; step++) {
      const loss = 3 + 7.8 * Math.exp(-step / 8000) + noise() * 0.3 + (step === 73_210 ? 6 : 0)
      runs.addMetrics(run.id, step, {
        loss,
        lr: 6e-4 * Math.min(1, step / 2000) * (0.1 + 0.9 * 0.5 * (1 + Math.cos((Math.PI * step) / STEPS))),
        gradNorm: 1 + noise() * 0.2,
        tokensPerSec: 900 + noise() * 100,
        tokens: step * 512,
        elapsed: step * 0.57,
        ...(step % 500 === 0 ? { valLoss: loss + 0.1 } : {})
      })
    }
  })()
  db.close()
}

test('a 100k-step run opens whole and draws decimated', async ({ page }) => {
  test.setTimeout(120_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-100k-'))
  seedLongRun(workspace)
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-runs').click()
    const opened = Date.now()
    await page.getByTestId('run-row-1').click()
    const charts = page.getByTestId('run-charts')
    await expect(charts).toHaveAttribute('data-raw-points', String(STEPS), { timeout: 60_000 })
    const drawnMs = Date.now() - opened
    await expect(page.getByTestId('run-loss-summary')).toContainText(`at step ${STEPS}`)
    const lossChart = page.getByTestId('chart-loss')
    const drawn = Number(await lossChart.getAttribute('data-drawn'))
    // Raw and smoothed train loss at <= 4 points per bucket, plus the 200 validation points.
    expect(drawn).toBeGreaterThan(500)
    expect(drawn).toBeLessThan(5000)

    const timings = async (): Promise<string[]> => [
      (await charts.getAttribute('data-build-ms')) ?? '',
      ...(await charts.locator('.chart').evaluateAll((els) => els.map((e) => e.getAttribute('data-render-ms') ?? '')))
    ]
    const costs = async (): Promise<string> => {
      const [build, ...renders] = await timings()
      return `build ${build} ms, render ${renders.join(' / ')} ms`
    }
    /** How often the series were built and each chart drawn (counts, so a repeated duration cannot hide a redraw). */
    const counts = async (): Promise<number[]> => [
      Number(await charts.getAttribute('data-builds')),
      ...(await charts.locator('.chart').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-renders')))))
    ]
    /** Makes a change and waits until every chart was redrawn, and the series rebuilt when the change rebuilds them. */
    const redrawn = async (change: () => Promise<void>, rebuilds = true): Promise<string> => {
      const before = await counts()
      await change()
      const fresh = async (): Promise<boolean> => (await counts()).every((n, i) => n > before[i] || (i === 0 && !rebuilds))
      await expect.poll(fresh, { timeout: 30_000 }).toBe(true)
      return costs()
    }
    const lines = [`open (fetch ${STEPS} x 7 series + first draw): ${drawnMs} ms; loss chart draws ${drawn} points; ${await costs()}`]
    // Changing the view rebuilds every chart from all 100k points.
    lines.push(`smoothing 0.9: ${await redrawn(() => page.getByTestId('chart-smoothing').fill('0.9'))}`)
    lines.push(`x by time: ${await redrawn(async () => void (await page.getByTestId('chart-x').selectOption('time')))}`)
    lines.push(`log scale: ${await redrawn(() => page.getByTestId('chart-log').check(), false)}`)
    expect(Number(await lossChart.getAttribute('data-drawn'))).toBeLessThan(5000)
    await page.screenshot({ path: 'test-results/screens/run-100k.png' })
    console.log(`100k-point chart costs on this machine:\n  ${lines.join('\n  ')}`)
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
