// The Serve switch (issue 16) in Chromium through the web host: a model loaded by a generation,
// served from the Loaded models list; the test calls the shown URL with the shown key (fetch, as
// any program would), sees the counters move, and switches it off.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { startHost } from './web-host'

const ROOT = path.join(__dirname, '..')

test('serve a loaded model over the OpenAI API, call it, watch the counters, stop', async ({ page }) => {
  test.setTimeout(300_000)
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-serve-'))
  const config = path.join(workspace, 'small.json')
  const small = { name: 'moby-serve', model: { nLayer: 2, nHead: 2, nEmbd: 32, nCtx: 32 }, batchSize: 4, steps: 4, eval: { interval: 0 }, checkpoint: { interval: 4, keepLast: 1 }, backend: 'wasm' }
  fs.writeFileSync(config, JSON.stringify(small))
  const trained = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'gptw.js'), 'train', '--config', config], { env: { ...process.env, GPTW_HOME: workspace }, encoding: 'utf8', timeout: 240_000 })
  expect(trained.status, trained.stderr).toBe(0)
  const host = await startHost(workspace)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await page.getByTestId('nav-generate').click()
    await expect(page.getByTestId('gen-checkpoint').locator('option')).toHaveCount(1)
    await page.getByTestId('gen-prompt').fill('Call me Ishmael.')
    await page.getByTestId('gen-start').click()
    await expect(page.locator('[data-testid^="gen-output-"]').first()).toHaveAttribute('data-state', 'done', { timeout: 60_000 })

    const models = page.getByTestId('loaded-models')
    await models.getByTestId('serve-on').click()
    const info = models.getByTestId('serve-info')
    await expect(info).toHaveAttribute('data-state', 'serving', { timeout: 60_000 })
    const baseUrl = (await info.getByTestId('serve-url').innerText()).trim()
    const key = (await info.getByTestId('serve-key').innerText()).trim()
    const model = (await info.getByTestId('serve-model').innerText()).trim()
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/)
    await expect(info.getByTestId('serve-counters')).toContainText('0 requests')
    await info.screenshot({ path: 'test-results/screens/serve-switch.png' })

    const res = await fetch(`${baseUrl}/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model, prompt: 'Call me Ishmael.', max_tokens: 6, temperature: 0 })
    })
    expect(res.status).toBe(200)
    const body = (await res.json()) as { choices: { text: string }[]; usage: { completion_tokens: number } }
    expect(body.usage.completion_tokens).toBe(6)
    await expect(info.getByTestId('serve-counters')).toContainText('1 request · 0 running · 6 tokens generated')
    const denied = await fetch(`${baseUrl}/models`, { headers: { Authorization: 'Bearer wrong' } })
    expect(denied.status).toBe(401)
    await expect(info.getByTestId('serve-counters')).toContainText('1 refused')
    await models.screenshot({ path: 'test-results/screens/serve-switch-counters.png' })

    await models.getByTestId('serve-off').click()
    await expect(info).toHaveCount(0)
    await expect
      .poll(
        () =>
          fetch(`${baseUrl}/models`).then(
            () => 'answers',
            () => 'closed'
          ),
        { timeout: 20_000 }
      )
      .toBe('closed')
  } finally {
    await host.stop()
    if (!process.env.GPTW_KEEP_TEMP) fs.rmSync(workspace, { recursive: true, force: true })
  }
})
