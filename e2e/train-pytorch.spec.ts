// The PyTorch engine from the Train view: pick it and two CPU processes, see what the interpreter
// has and the torchrun line, start; the live chart moves, pause (the ranks checkpoint and stop),
// resume (relaunched from that checkpoint), stop. Needs a Python with torch (GPTW_PYTHON, else
// Debian's /usr/bin/python3).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { rawPoints, typeSmallConfig, waitForStep } from './train-helpers'
import { type RunningHost, startHost } from './web-host'

test.setTimeout(240_000)

test('train on the PyTorch engine with 2 CPU processes: chart, pause, resume, stop', async ({ page }) => {
  process.env.GPTW_PYTHON ||= '/usr/bin/python3'
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-torch-'))
  const host: RunningHost = await startHost(workspace)
  try {
    await page.goto(host.url)
    await typeSmallConfig(page, { steps: 40, name: 'e2e pytorch' })
    await page.getByTestId('device-pick-cpu:1').check()
    await page.getByTestId('engine-picker').selectOption('pytorch')
    await expect(page.getByTestId('engine-pytorch')).toContainText(/torch \d+\.\d+/)
    await expect(page.getByTestId('engine-command')).toContainText('-m torch.distributed.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --rdzv_id gptw-local --nproc_per_node 2')
    await expect(page.getByTestId('train-blockers')).toHaveCount(0)
    await page.getByTestId('train-start').click()

    const live = page.getByTestId('live-run')
    await expect(live).toContainText('Run 1 e2e pytorch')
    const summary = page.getByTestId('live-summary')
    const early = await waitForStep(summary, 2, 120_000)
    await expect.poll(() => rawPoints(page), { timeout: 60_000 }).toBeGreaterThan(early.step)
    await page.screenshot({ path: 'test-results/screens/train-view-pytorch.png' })

    await live.getByTestId('run-pause').click()
    await expect(live.getByTestId('run-state')).toHaveText('paused')
    await live.getByTestId('run-resume').click()
    await expect(live.getByTestId('run-state')).toHaveText('running')
    const after = await waitForStep(summary, early.step + 4, 120_000)
    expect(after.step).toBeGreaterThan(early.step)
    await live.getByTestId('run-stop').click()
    await page.getByTestId('stop-confirm').click() // Stop asks first
    await expect(live.getByTestId('run-state')).toHaveText('cancelled', { timeout: 20_000 })
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(workspace, { recursive: true, force: true })
  }
})
