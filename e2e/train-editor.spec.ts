// The Train view's editor in Chromium against the web host: validation from the shared schema
// blocks Train with the field's message, JSON / YAML text round-trips into the form, a seed
// Colossal-AI config imports with its mapping shown, and a config saves under a name.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { startHost } from './web-host'

const SEED_CONFIGS = path.join(__dirname, '..', 'test', 'fixtures', 'seed-configs')

test('bad values block Train with their message; text modes, seed import and save work', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-train-'))
  const host = await startHost(workspace)
  const errors: string[] = []
  // Errors the page logs (a CSP violation, an exception); the browser's own favicon probe aside.
  page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && errors.push(`${m.text()} ${m.location().url}`))
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-train').click()
    await expect(page.getByTestId('preset-picker')).toHaveValue('preset:tiny-cpu')
    await expect(page.getByTestId('field-model.nLayer')).toHaveValue('2')
    await expect(page.getByTestId('est-params')).toHaveText('6.84 M')
    await expect(page.getByTestId('est-step-source')).toContainText('FLOP estimate')
    await expect(page.getByTestId('device-pick-cpu:0')).toBeChecked()
    const start = page.getByTestId('train-start')
    await expect(start).toBeEnabled()

    // A value that is not a number, and one out of range: each named at its field, Train blocked.
    await page.getByTestId('field-steps').fill('12x')
    await expect(page.getByTestId('error-steps')).toHaveText('Steps must be a number (1 – 1000000000, whole number)')
    await expect(start).toBeDisabled()
    await expect(page.getByTestId('train-blockers')).toContainText('Steps must be a number')
    await page.getByTestId('field-steps').fill('40')
    await page.getByTestId('field-optimizer.lr').fill('3')
    await expect(page.getByTestId('error-optimizer.lr')).toContainText('Learning rate must be at most 1')
    await expect(start).toBeDisabled()
    await page.getByTestId('field-optimizer.lr').fill('6e-3')
    // Rules across fields come from the schema too: heads must divide the width; the batch must split.
    await page.getByTestId('field-model.nHead').fill('3')
    await expect(page.getByTestId('error-model.nHead')).toContainText('Width 128 must be divisible by Attention heads 3')
    await page.getByTestId('field-model.nHead').fill('4')
    await page.getByTestId('field-microBatches').fill('3')
    await expect(page.getByTestId('error-microBatches')).toHaveText('Batch 16 must split evenly over 1 device × 3 micro-batches') // under the field just changed
    await page.getByTestId('field-microBatches').fill('')
    await expect(start).toBeEnabled()
    await expect(page.getByTestId('diff-row')).toHaveCount(2) // steps and lr
    await expect(page.getByTestId('config-diff')).toContainText('optimizer.lr')
    await expect(page.getByTestId('est-summary')).toContainText('6.84 M parameters · 1,024 tokens/step')
    await page.getByTestId('estimates').scrollIntoViewIfNeeded()
    await page.screenshot({ path: 'test-results/screens/train-estimates.png' })

    // JSON: broken text blocks Train with the parser's message; fixed text flows into the form.
    await page.getByTestId('mode-json').click()
    const text = page.getByTestId('config-text')
    await expect(text).toHaveValue(/"steps": 40/)
    const json = await text.inputValue()
    await text.fill(json.replace('"steps": 40', '"steps": 40,,'))
    await expect(page.getByTestId('config-text-error')).toContainText('JSON')
    await expect(start).toBeDisabled()
    await text.fill(json.replace('"steps": 40', '"steps": 41'))
    await expect(page.getByTestId('config-text-error')).toHaveCount(0)
    // What only the host can check (the dataset folder) comes back from Train as its message:
    // a folder outside the workspace is refused as such, a missing one inside it by name.
    await text.fill(json.replace('"steps": 40', '"steps": 41, "dataset": "/no/such/shards"'))
    await start.click()
    await expect(page.getByTestId('train-error')).toContainText('Forbidden: train config.dataset names /no/such/shards')
    await text.fill(json.replace('"steps": 40', '"steps": 41, "dataset": "no-such-shards"'))
    await start.click()
    await expect(page.getByTestId('train-error')).toContainText('no-such-shards/meta.json')
    await expect(page.locator('[data-testid^="job-"][data-state]')).toHaveCount(0)
    await text.fill(json.replace('"steps": 40', '"steps": 41'))
    await page.getByTestId('mode-yaml').click()
    await expect(text).toHaveValue(/steps: 41/)
    await text.fill((await text.inputValue()).replace('steps: 41', 'steps: 42'))
    await page.getByTestId('mode-form').click()
    await expect(page.getByTestId('field-steps')).toHaveValue('42')

    // A seed config: mapped settings fill the form; what cannot be honoured is listed as such.
    await page.getByTestId('seed-file').setInputFiles(path.join(SEED_CONFIGS, 'gpt2_pp1d.py'))
    const mapping = page.getByTestId('seed-mapping')
    await expect(mapping).toContainText('Imported gpt2_pp1d.py')
    const unsupported = mapping.locator('[data-testid="seed-item"][data-status="unsupported"]')
    await expect(unsupported.filter({ hasText: 'parallel.tensor' })).toContainText('Tensor parallel size 2 (1d) is not supported')
    await expect(unsupported.filter({ hasText: 'parallel.pipeline' })).toContainText('Pipeline parallel over 2 stages')
    await expect(unsupported.filter({ hasText: 'fp16' })).toContainText('AMP_TYPE.NAIVE')
    await expect(unsupported.filter({ hasText: 'model.dtype' })).toHaveCount(1)
    await expect(mapping.locator('[data-testid="seed-item"][data-status="mapped"]').filter({ hasText: 'optimizer.lr' })).toContainText('0.00015')
    await expect(page.getByTestId('field-model.nLayer')).toHaveValue('12')
    await expect(page.getByTestId('field-model.nCtx')).toHaveValue('1024')
    await expect(page.getByTestId('field-microBatches')).toHaveValue('4')
    await expect(page.getByTestId('field-optimizer.beta2')).toHaveValue('0.999')
    await expect(page.getByTestId('preset-picker')).toHaveValue('import')
    await expect(start).toBeEnabled()
    await page.screenshot({ path: 'test-results/screens/train-seed-import.png', fullPage: true })

    // A file that is not the Python subset is refused with its line.
    const bad = path.join(workspace, 'bad_config.py')
    fs.writeFileSync(bad, 'BATCH_SIZE = 8\nfor i in range(3):\n    pass\n')
    await page.getByTestId('seed-file').setInputFiles(bad)
    await expect(page.getByTestId('seed-error')).toContainText('bad_config.py: line 2: "for" statements are not read')

    // Save under a name: a file in the workspace that the CLI can train from.
    await page.getByTestId('save-name').fill('pp1d import')
    await page.getByTestId('save-config').click()
    const file = path.join(workspace, 'configs', 'pp1d import.json')
    await expect(page.getByTestId('save-message')).toContainText(`gptw train --config '${file}'`)
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({ name: 'pp1d import', microBatches: 4, model: { nLayer: 12 } })
    await expect(page.getByTestId('preset-picker')).toHaveValue('saved:pp1d import')
    await page.getByTestId('preset-picker').selectOption('preset:tiny-cpu')
    await expect(page.getByTestId('field-model.nLayer')).toHaveValue('2')
    await page.getByTestId('preset-picker').selectOption('saved:pp1d import')
    await expect(page.getByTestId('field-model.nLayer')).toHaveValue('12')
    expect(errors).toEqual([])
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
