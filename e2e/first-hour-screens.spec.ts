// The first hour's screens (issue 15) in Chromium against the web host: the start screen and its
// one-click Tiny run on Moby Dick, light / dark themes (system by default, a persisted toggle),
// the collapsible Jobs pane, scroll reset per view, keyboard tabs, field errors in the form's
// words, the memory guard on Train, and layouts that fit from 1024x700 to 2560x1440. Screenshots
// of both themes at 1024x700 and 1440x900 go to test-results/screens/first-hour-*.png.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Locator, type Page, expect, test } from '@playwright/test'
import { typeSmallConfig } from './train-helpers'
import { startHost } from './web-host'

const SHOTS = 'test-results/screens'
/** The page's background colour, evaluated in the page (a string: this project's node tsconfig has no DOM lib). */
const PAGE_BACKGROUND = 'getComputedStyle(document.documentElement).backgroundColor'
const VIEWS = ['start', 'data', 'train', 'evaluate', 'generate', 'runs'] as const

function watchErrors(page: Page): string[] {
  const errors: string[] = []
  page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && errors.push(`${m.text()} ${m.location().url}`))
  page.on('pageerror', (e) => errors.push(e.message))
  return errors
}

async function box(locator: Locator): Promise<{ x: number; y: number; width: number; height: number }> {
  const b = await locator.boundingBox()
  expect(b, 'element is laid out').not.toBeNull()
  return b!
}

const overlaps = (a: { x: number; y: number; width: number; height: number }, b: { x: number; y: number; width: number; height: number }): boolean =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

/** Nothing in the open view is wider than the view (no sideways scrolling, nothing cut off). */
async function expectNoSidewaysOverflow(page: Page, view: string): Promise<void> {
  const { scroll, client } = await page.getByTestId('content').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }))
  expect(scroll, `${view} fits its width`).toBeLessThanOrEqual(client + 1)
}

test('start screen, themes, jobs pane, tabs, field errors, memory guard and layouts', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-first-'))
  const host = await startHost(workspace)
  const errors = watchErrors(page)
  try {
    // Dark system theme, narrow window: the start screen opens first, dark, the Jobs pane folded.
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.setViewportSize({ width: 1024, height: 700 })
    await page.goto(host.url)
    await expect(page.getByTestId('start-view')).toBeVisible()
    await expect(page.getByTestId('nav-start')).toHaveAttribute('aria-current', 'page')
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
    await expect(page.getByTestId('theme-picker')).toHaveValue('system')
    const bodyColour = await page.evaluate(PAGE_BACKGROUND)
    expect(bodyColour).toBe('rgb(20, 23, 29)')
    await expect(page.getByTestId('start-estimate')).toContainText('No run of this shape was measured on this machine yet')
    await expect(page.getByTestId('start-runs')).toContainText('None yet')
    await expect(page.getByTestId('jobs-toggle')).toHaveText('‹ Jobs (0)')
    await expect(page.getByTestId('jobs-toggle')).toHaveAttribute('aria-expanded', 'false')
    await page.screenshot({ path: `${SHOTS}/first-hour-start-dark-1024.png` })

    // The system theme follows the system; a picked one is kept across a reload.
    await page.emulateMedia({ colorScheme: 'light' })
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
    await page.emulateMedia({ colorScheme: 'dark' })
    await page.getByTestId('theme-picker').selectOption('light')
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
    await page.reload()
    await expect(page.getByTestId('theme-picker')).toHaveValue('light')
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'light')
    expect(await page.evaluate(PAGE_BACKGROUND)).toBe('rgb(246, 247, 249)')
    await page.screenshot({ path: `${SHOTS}/first-hour-start-light-1024.png` })

    // The Jobs pane opens and folds; the choice is kept.
    await page.getByTestId('jobs-toggle').click()
    await expect(page.getByTestId('jobs-pane')).toContainText('No jobs yet.')
    await page.reload()
    await expect(page.getByTestId('jobs-toggle')).toHaveText('Hide ›')
    const paneOpen = (await box(page.getByTestId('jobs-pane'))).width
    await page.getByTestId('jobs-toggle').click()
    await expect(page.getByTestId('jobs-pane')).not.toContainText('No jobs yet.')
    expect((await box(page.getByTestId('jobs-pane'))).width).toBeLessThan(paneOpen / 4)

    // Form / JSON / YAML: a tab list driven by the arrow keys, Home and End.
    await page.getByTestId('nav-train').click()
    await expect(page.getByTestId('preset-picker')).toHaveValue('preset:tiny-cpu')
    const form = page.getByTestId('mode-form')
    await expect(form).toHaveAttribute('tabindex', '0')
    await expect(page.getByTestId('mode-json')).toHaveAttribute('tabindex', '-1')
    await form.focus()
    await page.keyboard.press('ArrowRight')
    await expect(page.getByTestId('mode-json')).toHaveAttribute('aria-selected', 'true')
    await expect(page.getByTestId('mode-json')).toBeFocused()
    await expect(page.getByTestId('config-text')).toHaveValue(/"nLayer": 2/)
    await page.keyboard.press('End')
    await expect(page.getByTestId('mode-yaml')).toBeFocused()
    await expect(page.getByTestId('config-text')).toHaveValue(/nLayer: 2/)
    await page.keyboard.press('ArrowRight') // wraps to the first
    await expect(page.getByTestId('mode-form')).toBeFocused()
    await expect(page.getByTestId('config-form')).toBeVisible()
    await expect(page.getByRole('tabpanel')).toHaveAttribute('aria-labelledby', 'tab-form')

    // Examples where a field has no default; errors in the form's words, under the field changed.
    await expect(page.getByTestId('field-model.nLayer')).toHaveAttribute('placeholder', 'e.g. 12')
    await expect(page.getByTestId('field-name')).toHaveAttribute('placeholder', /^e\.g\. /)
    await page.getByTestId('field-model.nHead').fill('3')
    await expect(page.getByTestId('error-model.nHead')).toHaveText('Width 128 must be divisible by Attention heads 3: each head gets an equal share of the width')
    await expect(page.getByTestId('error-model.nEmbd')).toHaveCount(0)
    await expect(page.getByTestId('train-start')).toBeDisabled()
    await page.getByTestId('field-model.nEmbd').fill('130')
    await expect(page.getByTestId('error-model.nEmbd')).toContainText('Width 130 must be divisible by Attention heads 3')
    await expect(page.getByTestId('error-model.nHead')).toHaveCount(0)
    await page.getByTestId('field-model.nEmbd').fill('128')
    await page.getByTestId('field-model.nHead').fill('4')
    await expect(page.getByTestId('train-blockers')).toHaveCount(0)
    // A negative learning rate is one problem, not also "the final rate is above it".
    await page.getByTestId('field-optimizer.lr').fill('-0.1')
    await expect(page.getByTestId('error-optimizer.lr')).toHaveText('Learning rate must be more than 0 (> 0 – 1)')
    await expect(page.getByTestId('error-optimizer.minLr')).toHaveCount(0)
    await expect(page.getByTestId('train-blockers').locator('li')).toHaveText(['Learning rate must be more than 0'])
    // Lowering the peak below the final rate: reported under the peak, the field just changed.
    await page.getByTestId('field-optimizer.lr').fill('0.0001')
    await expect(page.getByTestId('error-optimizer.lr')).toHaveText('Final learning rate 0.0003 is above the peak Learning rate 0.0001')
    await expect(page.getByTestId('error-optimizer.minLr')).toHaveCount(0)
    await page.getByTestId('field-optimizer.lr').fill('0.003')
    await expect(page.getByTestId('train-blockers')).toHaveCount(0)

    // Scroll position is per view: Train scrolled down, Data then opens at its top, and so does Train.
    const content = page.getByTestId('content')
    await content.evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    expect(await content.evaluate((el) => el.scrollTop)).toBeGreaterThan(200)
    await page.getByTestId('nav-data').click()
    await expect(page.getByTestId('tokenize-form')).toBeVisible()
    await expect.poll(() => content.evaluate((el) => el.scrollTop)).toBe(0)
    await page.getByTestId('nav-train').click()
    await expect.poll(() => content.evaluate((el) => el.scrollTop)).toBe(0)

    // The action bar sits after the form and the pickers: it covers no field at any scroll.
    await content.evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    const bar = await box(page.locator('.train-actions'))
    for (const id of ['engine-picker', 'backend-picker', 'field-checkpoint.keepLast', 'dataset-picker'])
      expect(overlaps(bar, await box(page.getByTestId(id))), `${id} is clear of the action bar`).toBe(false)

    // Memory guard: a shape far past this machine's memory disables Train with the reason, until overridden.
    const huge = { 'model.nLayer': 96, 'model.nHead': 96, 'model.nEmbd': 12288, 'model.nCtx': 2048, batchSize: 64 }
    for (const [p, v] of Object.entries(huge)) await page.getByTestId(`field-${p}`).fill(String(v))
    await expect(page.getByTestId('memory-reason')).toContainText('per device, is more than the')
    await expect(page.getByTestId('train-start')).toBeDisabled()
    await expect(page.getByTestId('train-start')).toHaveAttribute('title', /is more than the/)
    await expect(page.getByTestId('train-blockers')).toHaveCount(0) // valid, only too big
    await page.getByTestId('memory-override').check()
    await expect(page.getByTestId('train-start')).toBeEnabled()
    await expect(page.getByTestId('config-diff')).toContainText('memoryCheck')
    await page.getByTestId('memory-guard').scrollIntoViewIfNeeded()
    await page.screenshot({ path: `${SHOTS}/first-hour-train-guard-light-1024.png` })
    await page.getByTestId('memory-override').uncheck()
    await expect(page.getByTestId('train-start')).toBeDisabled()
    await page.getByTestId('preset-picker').selectOption('preset:tiny-cpu')
    await expect(page.getByTestId('memory-guard')).toHaveCount(0)
    await expect(page.getByTestId('train-start')).toBeEnabled()

    // Generate at 1024x700 with the Jobs pane open (the narrowest it gets): nothing squeezed or overlapping.
    await page.getByTestId('jobs-toggle').click()
    await page.getByTestId('nav-generate').click()
    await expect(page.getByTestId('gen-checkpoint')).toBeVisible()
    expect((await box(page.getByTestId('gen-checkpoint'))).width).toBeGreaterThan(400) // the sampling panel moved under the console
    expect((await box(page.getByTestId('gen-folder'))).width).toBeGreaterThan(300)
    const regenerate = await box(page.getByTestId('gen-regenerate'))
    for (const label of await page.locator('.generate label').all()) if (await label.isVisible()) expect(overlaps(regenerate, await box(label))).toBe(false)
    const history = await box(page.locator('.generate .history'))
    const search = await box(page.getByTestId('gen-search'))
    expect(search.x + search.width).toBeLessThanOrEqual(history.x + history.width)
    await page.screenshot({ path: `${SHOTS}/first-hour-generate-light-1024.png` })
    await page.getByTestId('theme-picker').selectOption('dark')
    await page.screenshot({ path: `${SHOTS}/first-hour-generate-dark-1024.png` })

    // Every view fits from 1024x700 to 2560x1440, Jobs pane open; screenshots at 1440x900 in both themes.
    for (const size of [
      { width: 1024, height: 700 },
      { width: 1440, height: 900 },
      { width: 2560, height: 1440 }
    ]) {
      await page.setViewportSize(size)
      for (const view of VIEWS) {
        await page.getByTestId(`nav-${view}`).click()
        await expect(page.getByTestId(`nav-${view}`)).toHaveAttribute('aria-current', 'page')
        await expectNoSidewaysOverflow(page, `${view} at ${size.width}x${size.height}`)
      }
    }
    await page.setViewportSize({ width: 1440, height: 900 })
    for (const theme of ['dark', 'light'] as const) {
      await page.getByTestId('theme-picker').selectOption(theme)
      for (const view of VIEWS) {
        await page.getByTestId(`nav-${view}`).click()
        await page.screenshot({ path: `${SHOTS}/first-hour-${view}-${theme}-1440.png` })
      }
    }
    expect(errors).toEqual([])
  } finally {
    await host.stop()
    fs.rmSync(workspace, { recursive: true, force: true })
  }
})

test('one click trains Tiny on Moby Dick; the start screen then lists the run, its measured speed and the next steps', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-first-run-'))
  const host = await startHost(workspace)
  const errors = watchErrors(page)
  try {
    await page.setViewportSize({ width: 1440, height: 900 })
    await page.goto(host.url)
    await page.getByTestId('start-train').click()
    // The run plays in Train, on the sample (tokenized on first use), with the Tiny preset's shape.
    await expect(page.getByTestId('live-run')).toBeVisible({ timeout: 60_000 }) // the sample is tokenized first
    await expect(page.getByTestId('live-run')).toContainText('on Moby Dick')
    await expect.poll(async () => Number(/at step (\d+)/.exec((await page.getByTestId('live-summary').textContent()) ?? '')?.[1] ?? 0), { timeout: 90_000 }).toBeGreaterThanOrEqual(6)
    await page.getByTestId('job-1').getByTestId('job-cancel').click()
    await page.getByRole('dialog').getByTestId('stop-confirm').click() // Stop asks first (FIRSTHOUR-A)
    await expect(page.getByTestId('job-1')).toHaveAttribute('data-state', /cancelled|done/, { timeout: 30_000 })

    // A short run that keeps a checkpoint, for the checkpoint list's next steps.
    await typeSmallConfig(page, { steps: 10, name: 'e2e first checkpoint', 'checkpoint.interval': 10 })
    await page.getByTestId('train-start').click()
    await expect(page.locator('[data-testid^="job-"][data-state="done"]')).toHaveCount(1, { timeout: 90_000 })

    // Its chart in the dark theme: ticks and grid drawn light on dark.
    await page.getByTestId('theme-picker').selectOption('dark')
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row-2').click()
    await expect(page.locator('.chart').first()).toBeVisible()
    await page.screenshot({ path: `${SHOTS}/first-hour-run-chart-dark-1440.png` })
    await page.getByTestId('theme-picker').selectOption('light')

    await page.getByTestId('nav-start').click()
    await expect(page.getByTestId('start-run-1')).toContainText('on Moby Dick')
    await expect(page.getByTestId('start-run-2')).toContainText('e2e first checkpoint')
    // The Tiny estimate now comes from the run just measured on this machine.
    await expect(page.getByTestId('start-estimate')).toContainText('on this machine (measured: run #1 trained this shape at')
    await expect(page.getByTestId('start-datasets')).toContainText('train tokens')
    const checkpoint = page.getByTestId('start-checkpoint-2-10')
    await expect(checkpoint).toContainText('e2e first checkpoint · step 10')
    await page.screenshot({ path: `${SHOTS}/first-hour-start-runs-light-1440.png` })
    // The Train view's preset picker says what Tiny took here, from the same measurement.
    await page.getByTestId('nav-train').click()
    await page.getByTestId('preset-picker').selectOption('preset:tiny-cpu')
    await expect(page.getByTestId('preset-picker').locator('option[value="preset:tiny-cpu"]')).toHaveText(/^Tiny \(2 layers × 128, for a CPU\) · about [\d.]+ (min|h|s) here$/)
    await page.getByTestId('nav-start').click()
    await checkpoint.getByTestId('start-generate').click()
    await expect(page.getByTestId('gen-checkpoint')).toHaveValue(/checkpoint|step|10/)
    await page.getByTestId('nav-start').click()
    await page.getByTestId('start-checkpoint-2-10').getByTestId('start-evaluate').click()
    await expect(page.locator('.evaluate-view, [data-testid="eval-tasks"]').first()).toBeVisible()
    expect(errors).toEqual([])
  } finally {
    await host.stop()
    fs.rmSync(workspace, { recursive: true, force: true })
  }
})
