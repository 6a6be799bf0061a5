// Shared steps of the training e2e specs: a small custom config typed into the Train view, and
// reading the live loss summary ("loss 10.812 → 7.513 at step 20, ...").
import { type Locator, type Page, expect } from '@playwright/test'

/** tiny-cpu made smaller so a CI run of a few dozen steps takes seconds on two cores. */
export async function typeSmallConfig(page: Page, fields: Record<string, string | number>): Promise<void> {
  await page.getByTestId('nav-train').click()
  await expect(page.getByTestId('preset-picker')).toHaveValue('preset:tiny-cpu')
  const values = { 'model.nEmbd': 64, 'model.nCtx': 32, batchSize: 4, 'optimizer.lr': 0.006, 'schedule.warmupSteps': 2, 'eval.interval': 10, 'eval.batches': 2, 'checkpoint.interval': 10, ...fields }
  for (const [path, value] of Object.entries(values)) await page.getByTestId(`field-${path}`).fill(String(value))
  // The wasm backend: present on every machine, and the one these timings were sized on.
  await page.getByTestId('backend-picker').selectOption('wasm')
  await expect(page.getByTestId('train-blockers')).toHaveCount(0)
}

export interface LossSummary {
  first: number
  last: number
  step: number
}

export async function lossSummary(locator: Locator): Promise<LossSummary | null> {
  const m = /loss ([\d.]+) → ([\d.]+) at step (\d+)/.exec((await locator.textContent()) ?? '')
  return m ? { first: Number(m[1]), last: Number(m[2]), step: Number(m[3]) } : null
}

export async function waitForStep(locator: Locator, step: number, timeout = 90_000): Promise<LossSummary> {
  await expect.poll(async () => (await lossSummary(locator))?.step ?? 0, { timeout }).toBeGreaterThanOrEqual(step)
  return (await lossSummary(locator))!
}

export const rawPoints = async (page: Page): Promise<number> => Number(await page.getByTestId('run-charts').first().getAttribute('data-raw-points'))
