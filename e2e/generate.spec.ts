// Generate in Chromium through the web host: train a small model on the bundled Moby Dick text
// (two checkpoints), pick one, stream a reply and stop it mid-way, read its tokens' probabilities,
// find it in history, and compare the two checkpoints side by side with the same seed.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { startHost } from './web-host'

const ROOT = path.join(__dirname, '..')

/** A real (small, quickly trained) model: two checkpoints, at steps 20 and 40. */
function trainTwoCheckpoints(workspace: string): void {
  const config = path.join(workspace, 'small.json')
  fs.writeFileSync(
    config,
    JSON.stringify({
      name: 'moby-small',
      model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 },
      batchSize: 4,
      steps: 40,
      optimizer: { lr: 0.004 },
      eval: { interval: 0 },
      checkpoint: { interval: 20, keepLast: 2 },
      backend: 'wasm',
      seed: 11
    })
  )
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'train', '--config', config], { env: { ...process.env, GPTW_HOME: workspace }, encoding: 'utf8', timeout: 240_000 })
  if (r.status !== 0) throw new Error(`training failed:\n${r.stderr}`)
}

test('stream, stop, history, per-token view and side by side', async ({ page }) => {
  test.setTimeout(420_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-gen-'))
  trainTwoCheckpoints(workspace)
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-generate').click()
    const picker = page.getByTestId('gen-checkpoint')
    await expect(picker.locator('option')).toHaveCount(2)
    await expect(picker.locator('option').first()).toHaveText(/moby-small · step 40/)

    // A long reply, stopped while it streams.
    await page.getByTestId('gen-preset-balanced').click()
    await page.getByTestId('gen-max-tokens').fill('3000')
    await page.getByTestId('gen-max-tokens').dispatchEvent('change')
    await page.getByTestId('gen-prompt').fill('Call me Ishmael. Some years ago')
    await page.getByTestId('gen-start').click()
    const out = page.locator('[data-testid^="gen-output-"]').first()
    await expect(out).toHaveAttribute('data-state', 'running', { timeout: 60_000 })
    const text = out.getByTestId('gen-text')
    await expect.poll(async () => (await text.innerText()).length, { timeout: 60_000 }).toBeGreaterThan('Call me Ishmael. Some years ago'.length + 40)
    const midway = (await text.innerText()).length
    await expect.poll(async () => (await text.innerText()).length, { timeout: 30_000 }).toBeGreaterThan(midway) // still streaming
    await page.getByTestId('gen-stop').click()
    await expect(out).toHaveAttribute('data-state', 'stopped', { timeout: 15_000 })
    const tokens = Number(/^(\d+) tokens/.exec(await out.getByTestId('gen-meta').innerText())![1])
    expect(tokens).toBeGreaterThan(10)
    expect(tokens).toBeLessThan(3000)
    const stoppedText = await text.innerText()

    // The per-token view: colours by probability, alternatives on hover.
    await page.getByTestId('gen-mode-tokens').click()
    await expect(out.getByTestId('gen-token')).toHaveCount(tokens)
    await out.getByTestId('gen-token').nth(2).hover()
    const popover = page.getByTestId('gen-token-popover')
    await expect(popover).toBeVisible()
    await expect(popover.locator('tr')).toHaveCount(5)
    await page.screenshot({ path: 'test-results/screens/generate-tokens.png' })
    await page.getByTestId('gen-mode-text').click()

    // History: found by a word of its prompt, and shown again as it was.
    await page.getByTestId('gen-search').fill('ishmael')
    const item = page.locator('[data-testid^="gen-history-"]').first()
    await expect(item).toContainText('stopped')
    await expect(page.locator('[data-testid^="gen-history-"]')).toHaveCount(1)
    await page.getByTestId('gen-search').fill('no-such-words-here')
    await expect(page.getByTestId('gen-history')).toContainText('Nothing matches.')
    await page.getByTestId('gen-search').fill('Ishm')
    await page.locator('[data-testid^="gen-history-"]').first().click()
    await expect(page.locator('[data-testid^="gen-output-"]').first().getByTestId('gen-text')).toHaveText(stoppedText)

    // Side by side: step 40 against step 20, same prompt and seed.
    await page.getByTestId('gen-max-tokens').fill('24')
    await page.getByTestId('gen-max-tokens').dispatchEvent('change')
    await page.getByTestId('gen-seed').fill('7')
    await page.getByTestId('gen-seed').dispatchEvent('change')
    await page.getByTestId('gen-compare').check()
    await page.getByTestId('gen-compare-with').selectOption({ label: 'moby-small · step 20' })
    await page.getByTestId('gen-prompt').fill('The whale')
    await page.getByTestId('gen-start').click()
    const outputs = page.locator('[data-testid^="gen-output-"]')
    await expect(outputs).toHaveCount(2)
    await expect(outputs.nth(0)).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
    await expect(outputs.nth(1)).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
    await expect(outputs.nth(0)).toContainText('step 40')
    await expect(outputs.nth(1)).toContainText('step 20')
    for (const i of [0, 1]) await expect(outputs.nth(i).getByTestId('gen-meta')).toContainText('seed 7')
    expect(await outputs.nth(0).getByTestId('gen-text').innerText()).not.toBe(await outputs.nth(1).getByTestId('gen-text').innerText())
    await page.getByTestId('gen-search').fill('')
    await expect(page.locator('[data-testid^="gen-history-"]', { hasText: 'compared' })).toHaveCount(2)
    await page.screenshot({ path: 'test-results/screens/generate.png' })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
