// The throughput panel of a data-parallel run in Chromium (issue 14, per device): a 2-worker run
// trained by the CLI, opened on its run page over a real `gptw serve`, shows a row per device
// (each rank's pid, memory now and at peak, step time) and per-device charts, the rows' pids
// those the run stored; the Jobs list shows under its job's progress line the spread over the two
// devices at the last step. Screenshots: test-results/screens/runpage-devices.png, jobs-devices.png.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { deviceSpread, splitDeviceMetrics } from '../src/shared/device-figures'
import type { RunSeries } from '../src/shared/run-series'
import { startHost } from './web-host'

const SCREENS = 'test-results/screens'

test('a 2-worker run: the throughput panel shows a row per device', async ({ page }) => {
  test.setTimeout(240_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-devices-'))
  const config = path.join(workspace, 'two.json')
  const two = {
    name: 'two workers',
    model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 },
    batchSize: 4,
    steps: 6,
    eval: { interval: 0 },
    checkpoint: { interval: 0, keepLast: 1 },
    backend: 'wasm',
    devices: ['cpu:0', 'cpu:1'],
    seed: 5
  }
  fs.writeFileSync(config, JSON.stringify(two))
  const trained = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'gptw.js'), 'train', '--config', config], {
    env: { ...process.env, GPTW_HOME: workspace },
    encoding: 'utf8',
    timeout: 180_000
  })
  expect(trained.status, trained.stderr).toBe(0)
  const host = await startHost(workspace)
  try {
    // The devices' series, by their per-device names.
    const token = new URL(host.url).searchParams.get('token')
    const names = ['pid', 'rssMb', 'stepSeconds'].flatMap((f) => [`${f}@0`, `${f}@1`])
    const res = await fetch(`${host.origin}/api/runs.series`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify({ id: 1, names }) })
    const { series } = ((await res.json()) as { value: RunSeries }).value
    expect(Object.keys(series).sort()).toEqual([...names].sort())
    await page.setViewportSize({ width: 1360, height: 1500 }) // the whole panel, charts included, in the screenshot
    await page.goto(host.url)
    // The Jobs list: under the job's progress line, the spread of its two devices at step 6, as stored.
    const lastStep = splitDeviceMetrics(Object.fromEntries(names.map((n) => [n, series[n].value[series[n].step.indexOf(6)]])))
    const spread = deviceSpread(lastStep.devices)!
    expect(spread).toMatch(/^mem \d+(-\d+)? MB, step \d+(-\d+)? ms over 2 ranks$/)
    const job = page.getByTestId('job-1')
    await expect(job.getByTestId('job-text')).toHaveText(/^step 6\/6 \| .* \| rss \d+\/\d+ MB$/, { timeout: 30_000 })
    await expect(job.getByTestId('job-devices')).toHaveText(`devices: ${spread}`)
    console.log('job lines:', await job.getByTestId('job-text').textContent(), '/', await job.getByTestId('job-devices').textContent())
    await page.getByTestId('jobs-pane').screenshot({ path: `${SCREENS}/jobs-devices.png` })
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row-1').click()
    const panel = page.getByTestId('throughput-panel')
    // Generous waits: the shared cores may be busy (the page loads the run's series first).
    await expect(panel).toHaveAttribute('data-step', '6', { timeout: 30_000 })
    const rows = panel.getByTestId('tp-device-row')
    await expect(rows).toHaveCount(2, { timeout: 30_000 })
    for (const rank of [0, 1]) {
      const row = rows.nth(rank)
      await expect(row).toHaveAttribute('data-rank', String(rank))
      await expect(row).toContainText(`rank ${rank} · cpu:${rank}`)
      await expect(row).toContainText(String(series[`pid@${rank}`].value.at(-1)))
      await expect(row.getByTestId('tp-device-rss')).toHaveText(/^[\d,]+ MB$/)
      await expect(row.getByTestId('tp-device-peak')).toHaveText(/^[\d,]+ MB$/)
      await expect(row.getByTestId('tp-device-step')).toHaveText(/^[\d,]+ ms$/)
    }
    expect(series['pid@0'].value.at(-1)).not.toBe(series['pid@1'].value.at(-1))
    await expect(panel.getByTestId('tp-chart-device-memory')).toBeVisible({ timeout: 30_000 })
    await expect(panel.getByTestId('tp-chart-device-step')).toBeVisible()
    const shown = await rows.allTextContents()
    console.log('device rows:', shown.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | '))
    await panel.screenshot({ path: `${SCREENS}/runpage-devices.png` })
  } finally {
    await host.stop()
    fs.rmSync(workspace, { recursive: true, force: true })
  }
})
