// The Data wizard in Debian's Chromium through the web host: a URL list served by a local site
// of real pages goes through every stage (progress per stage while it runs), the wizard shows
// what was dropped and why, the duplicate groups and the cleaning previews, and hands the token
// shards to the Train view.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import { FRENCH_PARAGRAPHS, articlePage, mobyChapter, mobyPage } from '../test/fixtures/webtext-corpus'
import { html, startSite } from '../test/fixtures/webtext-server'
import { nearCopy } from '../test/fixtures/webtext-site'
import { startHost } from './web-host'

test('prepare Webtext from a URL list to token shards and hand it to Train', async ({ page }) => {
  const site = await startSite()
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-prepare-'))
  for (const n of [1, 2, 3, 4, 5, 6]) site.route(`/moby/${n}`, html(mobyPage(n)))
  site.route('/mirror/5', html(mobyPage(5, { nav: 'Mirror' })))
  const ch3 = mobyChapter(3)
  site.route('/near/3', html(articlePage(ch3.title, nearCopy(ch3.paragraphs))))
  site.route('/fr', html(articlePage('Chapitre premier', FRENCH_PARAGRAPHS, { lang: 'fr' })))
  const list = path.join(workspace, 'urls.txt')
  const paths = ['/moby/1', '/moby/2', '/moby/3', '/moby/4', '/moby/5', '/moby/6', '/mirror/5', '/near/3', '/fr', '/missing']
  fs.writeFileSync(list, [...paths.map((p) => site.url(p)), 'https://www.youtube.com/watch?v=1'].join('\n') + '\n')

  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await expect(page.getByTestId('connection')).toHaveText(/Connected \(web\)/)
    await page.getByTestId('nav-data').click() // the app opens on Start

    // 1. Sources.
    await page.getByTestId('prepare-name').fill('E2E webtext')
    await page.getByTestId('prepare-url-files').fill(list)
    await page.getByTestId('prepare-next').click()

    // 2. Filters: a bad value is named before anything runs; then polite but quick settings.
    await page.getByTestId('prepare-bands').fill('7')
    await expect(page.getByTestId('prepare-problems')).toContainText('bands (7) must divide seeds (100)')
    await expect(page.getByTestId('prepare-run')).toBeDisabled()
    await page.getByTestId('prepare-bands').fill('20')
    await expect(page.getByTestId('prepare-catch-rate')).toContainText('20 bands of 5 rows')
    await page.getByTestId('prepare-host-delay').fill('300')
    await page.getByTestId('prepare-retries').fill('0')
    // The local site is on 127.0.0.1: without the intranet opt-in every page would be refused as private-address.
    await page.getByTestId('prepare-allow-private').check()
    await page.getByTestId('prepare-val').fill('0.2')
    await page.screenshot({ path: 'test-results/screens/prepare-filters.png', fullPage: true })
    await page.getByTestId('prepare-run').click()

    // 3. Progress per stage: the download is seen running, then every stage finishes.
    const download = page.getByTestId('stage-download')
    await expect(download).toHaveAttribute('data-status', 'running', { timeout: 20_000 })
    await expect(page.getByTestId('stage-download-live')).toContainText(/of 10 pages/)
    await page.screenshot({ path: 'test-results/screens/prepare-running.png', fullPage: true })
    await expect(page.getByTestId('stage-output')).toHaveAttribute('data-status', 'done', { timeout: 60_000 })
    await expect(page.getByTestId('prepare-dataset-state')).toHaveText('done')

    await expect(page.getByTestId('stage-urlFilter-dropped')).toContainText('blacklisted-domain 1')
    await expect(page.getByTestId('stage-download-dropped')).toContainText('http-404 1')
    await expect(page.getByTestId('stage-clean-dropped')).toContainText('wrong-language 1')
    await expect(page.getByTestId('stage-dedupe-dropped')).toContainText('exact-duplicate 1')
    await expect(page.getByTestId('stage-dedupe-dropped')).toContainText('near-duplicate 1')
    await expect(page.getByTestId('stage-output-kept')).toHaveText('6')

    // Inspect: the French page among the cleaning drops, and the duplicate groups.
    await page.getByTestId('inspect-clean').click()
    await expect(page.getByTestId('sample-dropped').filter({ hasText: site.url('/fr') })).toContainText('wrong-language')
    await page.getByTestId('inspect-duplicates').click()
    await expect(page.getByTestId('duplicate-group')).toHaveCount(2)
    await expect(page.getByTestId('duplicate-groups')).toContainText(site.url('/near/3'))
    await page.screenshot({ path: 'test-results/screens/prepare-duplicates.png', fullPage: true })

    // The dataset is listed, and its shards go to Train.
    await expect(page.getByTestId('prepare-datasets')).toContainText('E2E webtext')
    await page.getByTestId('prepare-to-train').click()
    await expect(page).toHaveURL(/#\/train$/)
    await expect(page.getByTestId('train-dataset')).toContainText(path.join(workspace, 'datasets'))
    await expect(page.getByTestId('train-dataset')).toContainText('tokens')
    const datasets = fs.readdirSync(path.join(workspace, 'datasets')).filter((d) => d.startsWith('e2e-webtext-'))
    expect(datasets).toHaveLength(1)
    const meta = JSON.parse(fs.readFileSync(path.join(workspace, 'datasets', datasets[0], 'tokens', 'meta.json'), 'utf8'))
    expect(meta.splits.train.documents + meta.splits.val.documents).toBe(6)
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    await site.close()
  }
})
