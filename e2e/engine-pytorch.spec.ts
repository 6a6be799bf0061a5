// Evaluate and Generate on the PyTorch engine in Chromium through the web host (issue 18): pick
// pytorch and cpu:0 beside the checkpoint, run the fixture tasks offline (a local stand-in for the
// Hugging Face Hub and the download hosts) and see the matrix filled and the engine named; load a
// checkpoint on PyTorch in Generate, generate greedily and read the text and the engine. Needs a
// Python with torch (GPTW_PYTHON, else Debian's /usr/bin/python3).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { startFixtureServer } from '../test/eval/fixture-server'
import { randomCheckpoint } from '../test/eval/random-checkpoint'
import { startHost } from './web-host'

test.setTimeout(240_000)
process.env.GPTW_PYTHON ||= '/usr/bin/python3'

test('evaluate on PyTorch cpu:0: the matrix fills and the job names the engine', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-torch-eval-'))
  const checkpoint = path.join(workspace, 'outside', 'ckpt', 'step-100')
  randomCheckpoint(checkpoint, { seed: 4, nCtx: 64 })
  const server = await startFixtureServer()
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    await expect(page.getByTestId('eval-tasks')).toContainText('of 39')
    await page.getByTestId('eval-folder').fill(checkpoint)
    await page.getByTestId('eval-folder-add').click()

    // The devices and the interpreter's report show once PyTorch is picked; cpu:0 is the default device.
    await expect(page.getByTestId('eval-device-cpu:0')).toHaveCount(0)
    await page.getByTestId('eval-engine').selectOption('pytorch')
    await expect(page.getByTestId('eval-device-cpu:0')).toBeChecked()
    await expect(page.getByTestId('eval-torch')).toContainText(/torch \d+\.\d+/)

    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-task-lambada').check()
    await page.getByText('Data source').click()
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-verify').uncheck()
    await page.getByTestId('eval-run').click()

    const job = page.getByTestId('eval-job')
    await expect(page.getByTestId('eval-job-engine')).toContainText('Engine: pytorch on cpu:0')
    await expect(page.locator('[data-testid^="eval-cell-"]:not(.empty)')).toHaveCount(3, { timeout: 150_000 })
    await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
    await expect(page.getByTestId('eval-job-engine')).toHaveText(/^Ran on the PyTorch engine: cpu, float32; torch \d+\.\d+/)
    const num = String.raw`(-?\d+\.\d{4}|-?\d\.\d{3}e[+-]\d+)`
    for (const id of ['copa-acc-0', 'lambada-acc-0', 'lambada-ppl-0']) await expect(page.getByTestId(`eval-cell-${id}`)).toHaveText(new RegExp(String.raw`^\s*${num}( ± ${num})?\s*$`))
    await expect(page.getByTestId('eval-failures')).toHaveCount(0)
    await page.screenshot({ path: 'test-results/screens/evaluate-pytorch.png' })
    await page.getByTestId('eval-matrix').screenshot({ path: 'test-results/screens/evaluate-pytorch-matrix.png' })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    await server.close()
  }
})

test('generate on PyTorch cpu:0: load, greedy text, the engine shown', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-torch-gen-'))
  const checkpoint = path.join(workspace, 'outside', 'gpt', 'step-7')
  randomCheckpoint(checkpoint, { seed: 9, nCtx: 64 })
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-generate').click()
    await page.getByTestId('gen-engine').selectOption('pytorch')
    await expect(page.getByTestId('gen-device-cpu:0')).toBeChecked()
    await expect(page.getByTestId('gen-torch')).toContainText(/torch \d+\.\d+/)

    // A folder is loaded on the engine picked.
    await page.getByTestId('gen-folder').fill(checkpoint)
    await page.getByTestId('gen-folder-use').click()
    await expect(page.getByTestId('gen-model-state')).toHaveText('ready', { timeout: 90_000 })
    await expect(page.getByTestId('gen-model-engine')).toHaveText('PyTorch engine, float32')
    await expect(page.getByTestId('loaded-models')).toContainText(/PyTorch engine \(torch \d+\.\d+[^)]*\) on cpu, float32/)

    await page.getByTestId('gen-max-tokens').fill('20')
    await page.getByTestId('gen-max-tokens').dispatchEvent('change')
    await page.getByTestId('gen-prompt').fill('Call me Ishmael.')
    await page.getByTestId('gen-start').click()
    const out = page.locator('[data-testid^="gen-output-"]').first()
    await expect(out).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
    await expect(out.getByTestId('gen-meta')).toContainText(/^20 tokens/)
    expect((await out.getByTestId('gen-text').innerText()).length).toBeGreaterThan('Call me Ishmael.'.length)
    await page.screenshot({ path: 'test-results/screens/generate-pytorch.png' })

    // Back to the embedded engine: Load loads it there again, and the badge says so.
    await page.getByTestId('gen-engine').selectOption('embedded')
    await page.getByTestId('gen-load').click()
    await expect(page.getByTestId('gen-model-engine')).toHaveText('embedded engine, float32', { timeout: 60_000 })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
