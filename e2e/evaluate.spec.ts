// The Evaluate view in Chromium through the web host: two random GPT checkpoints on three harness
// tasks whose data comes from a local stand-in for the Hugging Face Hub and the download hosts.
// The matrix fills in from pushed events as the worker finishes tasks, a cell opens its samples,
// and the matrix exports as CSV, JSON and Markdown. A watched run's checkpoints are evaluated as
// training saves them.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test, type Page } from '@playwright/test'
import { startFixtureServer } from '../test/eval/fixture-server'
import { randomCheckpoint } from '../test/eval/random-checkpoint'
import { startHost } from './web-host'

async function download(page: Page, testId: string): Promise<{ name: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()])
  return { name: file.suggestedFilename(), text: fs.readFileSync((await file.path())!, 'utf8') }
}

test('evaluate two checkpoints on three tasks: live matrix, samples, export', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-eval-'))
  const checkpoints = [1, 2].map((seed) => {
    const dir = path.join(workspace, 'outside', `ckpt-${seed}`, `step-${seed * 100}`)
    randomCheckpoint(dir, { seed, nCtx: 64 })
    return dir
  })
  const server = await startFixtureServer()
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    await expect(page.getByTestId('eval-tasks')).toContainText('of 39')

    for (const dir of checkpoints) {
      await page.getByTestId('eval-folder').fill(dir)
      await page.getByTestId('eval-folder-add').click()
    }
    await expect(page.getByTestId('eval-checkpoint-chip')).toHaveCount(2)

    // search narrows the list; tick three tasks
    await page.getByTestId('eval-task-search').fill('lamb')
    await expect(page.locator('[data-testid^="eval-task-"][type="checkbox"]')).toHaveCount(1)
    await page.getByTestId('eval-task-lambada').check()
    await page.getByTestId('eval-task-search').fill('')
    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-task-hellaswag').check()
    await expect(page.getByTestId('eval-tasks')).toContainText('3 of 39')

    await page.getByText('Data source').click()
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-verify').uncheck()

    await page.getByTestId('eval-run').click()
    const job = page.getByTestId('eval-job')
    await expect(job).toBeVisible()
    // Nothing is stored for these checkpoints yet: every cell arrives by push while the job runs.
    await expect(page.getByTestId('eval-pending')).toContainText('copa on')
    const cells = page.locator('[data-testid^="eval-cell-"]:not(.empty)')
    await expect(cells).toHaveCount(10, { timeout: 90_000 })
    await expect(job).toHaveAttribute('data-state', 'done', { timeout: 30_000 })
    await page.getByTestId('eval-matrix').screenshot({ path: 'test-results/screens/evaluate-matrix.png' })

    // value ± stderr, as 0.5000 or (a random model's perplexity) 1.405e+6
    const num = String.raw`(-?\d+\.\d{4}|-?\d\.\d{3}e[+-]\d+)`
    const cell = new RegExp(String.raw`^\s*${num}( ± ${num})?\s*$`)
    for (const [task, metric] of [
      ['copa', 'acc'],
      ['hellaswag', 'acc'],
      ['hellaswag', 'acc_norm'],
      ['lambada', 'acc'],
      ['lambada', 'ppl']
    ]) {
      for (const col of [0, 1]) await expect(page.getByTestId(`eval-cell-${task}-${metric}-${col}`)).toHaveText(cell)
    }
    // the published GPT-2 small reference, with its source named
    await expect(page.getByTestId('eval-row-lambada-acc')).toContainText('0.3256 ± 0.0065')
    await expect(page.getByTestId('eval-reference-source')).toContainText('issue #2159')
    await expect(page.getByTestId('eval-failures')).toHaveCount(0)

    // inspect copa on the first checkpoint: its two documents with their two choices
    await page.getByTestId('eval-cell-copa-acc-0').click()
    const inspector = page.getByTestId('eval-inspector')
    await expect(inspector).toContainText('copa · acc')
    await expect(inspector.getByTestId('eval-sample')).toHaveCount(2)
    await expect(inspector.getByTestId('eval-sample-prompt').first()).toHaveText(/ (because|therefore)$/)
    await expect(inspector.getByTestId('eval-sample').first().getByTestId('eval-sample-choice')).toHaveCount(2)
    await expect(inspector.getByTestId('eval-sample-gold').first()).not.toBeEmpty()
    await expect(inspector.getByTestId('eval-sample-prediction').first()).not.toBeEmpty()
    await page.screenshot({ path: 'test-results/screens/evaluate-view.png' })
    await inspector.screenshot({ path: 'test-results/screens/evaluate-samples.png' })

    // sorting by a checkpoint's column orders the rows by its values
    await page.getByTestId('eval-col-0').click()
    const firstRow = page.locator('[data-testid^="eval-row-"]').first()
    await expect(page.getByTestId('eval-col-0')).toContainText('▼')
    await expect(firstRow).toBeVisible()

    const csv = await download(page, 'eval-export-csv')
    expect(csv.name).toMatch(/\.csv$/)
    const lines = csv.text.trim().split('\n')
    expect(lines[0]).toBe('checkpoint,label,fingerprint,task,version,metric,value,stderr,higher_is_better,num_fewshot,documents,limit,reference,reference_stderr')
    expect(lines).toHaveLength(11)
    expect(lines.filter((l) => l.startsWith(checkpoints[1]))).toHaveLength(5)
    expect(lines.find((l) => l.includes(',lambada,') && l.includes(',acc,'))).toMatch(/,0\.3256,0\.0065$/)

    const json = JSON.parse((await download(page, 'eval-export-json')).text) as {
      checkpoints: { checkpoint: string }[]
      results: { task: string; metric: string; values: Record<string, { value: number }> }[]
    }
    expect(json.checkpoints.map((c) => c.checkpoint)).toEqual(checkpoints)
    expect(json.results).toHaveLength(5)
    for (const r of json.results) expect(Object.keys(r.values)).toEqual(checkpoints)

    const md = (await download(page, 'eval-export-md')).text
    expect(md).toMatch(/^\| Task \| Version \| Metric \| n-shot \|/)
    expect(md).toMatch(/\| copa \| 0 \| acc ↑ \| 0 \|/)
    expect(md).toContain('GPT-2 small (124M) (published)')
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    await server.close()
  }
})

test('watch a run: the checkpoints it saves are evaluated and join the matrix; stop', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-watch-'))
  const config = path.join(workspace, 'tiny.json')
  const tiny = { name: 'tiny', model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 }, batchSize: 2, steps: 6, eval: { interval: 0 }, checkpoint: { interval: 2, keepLast: 10 }, backend: 'wasm', seed: 5 }
  fs.writeFileSync(config, JSON.stringify(tiny))
  const trained = spawnSync(process.execPath, [path.join(__dirname, '..', 'bin', 'gptw.js'), 'train', '--config', config], {
    env: { ...process.env, GPTW_HOME: workspace },
    encoding: 'utf8',
    timeout: 120_000
  })
  expect(trained.status, trained.stderr).toBe(0)
  const server = await startFixtureServer()
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-limit').fill('2')
    await page.getByText('Data source').click()
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-watch-run').selectOption('1')
    await page.getByTestId('eval-watch-start').click()
    const item = page.getByTestId('eval-watch-item')
    await expect(item).toHaveAttribute('data-run', '1')
    await expect(item).toContainText('copa, 0-shot, limit 2')
    await expect(item.getByTestId('eval-watch-status')).toHaveText('waiting for its next checkpoint')

    // Training resumes from step 4 and saves step 6 again: evaluated, it becomes a matrix column.
    await page.getByTestId('nav-runs').click()
    await page.getByTestId('run-row-1').click()
    await page.getByTestId('resume-from-4').click()
    await page.getByTestId('nav-evaluate').click()
    await expect(page.getByTestId('eval-checkpoint-chip')).toHaveText(/run 1 step 6/, { timeout: 60_000 })
    await expect(page.getByTestId('eval-cell-copa-acc-0')).toHaveText(/^\s*\d\.\d{4}/, { timeout: 60_000 })
    await expect(item.getByTestId('eval-watch-status')).toContainText(/last: step 6 \(job \d+, done\)/, { timeout: 30_000 })
    await page.getByTestId('eval-watch').screenshot({ path: 'test-results/screens/evaluate-watch.png' })

    await item.getByTestId('eval-watch-stop').click()
    await expect(page.getByTestId('eval-watch-item')).toHaveCount(0)
    await expect(page.getByTestId('eval-watch-run').locator('option', { hasText: '(watched)' })).toHaveCount(0)
  } finally {
    await host.stop()
    if (process.env.GPTW_KEEP_TEMP !== '1') fs.rmSync(workspace, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
    await server.close()
  }
})
