// Crash-resume of the prepare job with the real worker process: killed with SIGKILL during the
// download and again during deduplication, a rerun on the same dataset folder finishes with the
// same output as an uninterrupted run, and no page already stored is fetched a second time.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { PrepareConfig, type PrepareConfigInput } from '../src/shared/config/prepare'
import { JobSupervisor } from '../src/main/services/jobs/supervisor'
import { type Db, openDatabase } from '../src/main/services/store/database'
import { JobsRepo } from '../src/main/services/store/jobs-repo'
import { PAUSED_LOG_LINE, inlineContext } from '../src/core/job-context'
import { runPipeline } from '../src/core/data/pipeline/runner'
import { articlePage, mobyChapter } from './fixtures/webtext-corpus'
import { type TestSite, startSite } from './fixtures/webtext-server'
import { WORKERS_DIR, sotuSpeeches, tempDir, waitFor } from './helpers'

let site: TestSite
const open: { db: Db; supervisor: JobSupervisor }[] = []

beforeAll(async () => {
  site = await startSite()
})
afterAll(async () => {
  await site.close()
})
afterEach(async () => {
  for (const { db, supervisor } of open.splice(0)) {
    await supervisor.shutdown()
    db.close()
  }
})

function setup() {
  const dir = tempDir()
  const db = openDatabase(path.join(dir, 'wb.db'))
  const repo = new JobsRepo(db)
  const supervisor = new JobSupervisor(repo, { workerPath: (kind) => path.join(WORKERS_DIR, `${kind}.js`) })
  open.push({ db, supervisor })
  return { dir, db, repo, supervisor }
}

const lines = (file: string): string[] => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [])
const storedUrls = (dataset: string): string[] =>
  lines(path.join(dataset, 'raw.jsonl')).flatMap((l) => {
    try {
      return [(JSON.parse(l) as { url: string }).url]
    } catch {
      return [] // the line a kill cut short
    }
  })

function killWorker(db: Db, jobId: number): void {
  const { pid } = db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number }
  process.kill(pid, 'SIGKILL')
}

describe('prepare job crash and resume', () => {
  // Each case runs the pipeline three times (killed, resumed, uninterrupted): minutes on a busy 2-core machine.
  it('killed during download, resumes without refetching stored pages and ends with the same output', { timeout: 300_000 }, async () => {
    const chapters = Array.from({ length: 40 }, (_, i) => i + 1)
    // The first 10 pages are served at once; later ones are held until the kill, so it lands mid-download for certain.
    let served = 0
    let releaseHeld = (): void => {}
    const held = new Promise<void>((resolve) => (releaseHeld = resolve))
    for (const n of chapters) {
      const { title, paragraphs } = mobyChapter(n)
      site.route(`/slow-moby/${n}`, async (_req, res) => {
        if (served++ >= 10) await held
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        res.end(articlePage(title, paragraphs))
      })
    }
    const { dir, db, repo, supervisor } = setup()
    const list = path.join(dir, 'urls.txt')
    fs.writeFileSync(list, chapters.map((n) => site.url(`/slow-moby/${n}`)).join('\n'))
    const config: PrepareConfigInput = { sources: { urlFiles: [list] }, download: { concurrency: 2, perHostDelayMs: 0, allowPrivateAddresses: true }, clean: { languages: [] } }
    const params = { config: PrepareConfig.parse(config), datasetDir: path.join(dir, 'dataset') }

    const first = supervisor.start({ kind: 'prepare', params })
    await waitFor(() => storedUrls(params.datasetDir).length >= 10, 30_000, '10 pages stored')
    killWorker(db, first.id)
    expect((await supervisor.waitForExit(first.id)).state).toBe('failed')
    releaseHeld()
    const stored = storedUrls(params.datasetDir)
    expect(stored.length).toBe(10)

    const second = supervisor.start({ kind: 'prepare', params })
    const done = await supervisor.waitForExit(second.id)
    expect(done.state, done.error ?? '').toBe('done')
    expect(repo.logs(second.id).some((l) => l.text.includes(`(${stored.length} already stored)`))).toBe(true)
    for (const url of stored) expect(site.hits.get(new URL(url).pathname), url).toBe(1)
    for (const n of chapters) expect(site.hits.get(`/slow-moby/${n}`)).toBeLessThanOrEqual(2) // at most the two in flight at the kill
    expect(storedUrls(params.datasetDir).sort()).toEqual(chapters.map((n) => site.url(`/slow-moby/${n}`)).sort())

    // An uninterrupted run gives byte-for-byte the same train_data.json.
    const reference = path.join(dir, 'reference')
    await runPipeline(params.config, reference, inlineContext())
    expect(fs.readFileSync(path.join(params.datasetDir, 'train_data.json'))).toEqual(fs.readFileSync(path.join(reference, 'train_data.json')))
    expect(fs.readFileSync(path.join(params.datasetDir, 'tokens', 'train.bin'))).toEqual(fs.readFileSync(path.join(reference, 'tokens', 'train.bin')))
  })

  it('killed during deduplication, resumes at deduplication and ends with the same output', { timeout: 300_000 }, async () => {
    const { dir, db, repo, supervisor } = setup()
    // ~2.5 MB of speeches in 2,000-character documents, with a near-duplicate for every tenth.
    const docs: { text: string; url: string }[] = []
    for (const [s, speech] of sotuSpeeches().slice(0, 60).entries()) {
      for (let i = 0; i + 2000 <= speech.length; i += 2000) docs.push({ text: speech.slice(i, i + 2000), url: `https://sotu.example/${s}/${i}` })
    }
    const copies = docs.filter((_, i) => i % 10 === 0).map((d) => ({ text: d.text.replace(/\bthe\b/, 'THE'), url: d.url + '/copy' }))
    const input = path.join(dir, 'speeches.jsonl')
    fs.writeFileSync(input, [...docs, ...copies].map((d) => JSON.stringify(d)).join('\n') + '\n')
    const params = { config: PrepareConfig.parse({ sources: { jsonFiles: [input] }, clean: { languages: [] } }), datasetDir: path.join(dir, 'dataset') }

    const first = supervisor.start({ kind: 'prepare', params })
    // Pause it inside dedupe so the kill lands there for certain, then kill it.
    await waitFor(() => repo.get(first.id)!.progressText.startsWith('Deduplicate'), 60_000, 'the dedupe stage')
    supervisor.pause(first.id)
    const manifestFile = path.join(params.datasetDir, 'manifest.json')
    await waitFor(() => repo.logs(first.id).some((l) => l.text === PAUSED_LOG_LINE), 60_000, 'the worker to stop at a pause point')
    const during = JSON.parse(fs.readFileSync(manifestFile, 'utf8'))
    expect(during.stages.dedupe.status).toBe('running')
    expect(fs.existsSync(path.join(params.datasetDir, 'dedup.jsonl'))).toBe(false)
    killWorker(db, first.id)
    await supervisor.waitForExit(first.id)

    const second = supervisor.start({ kind: 'prepare', params })
    const done = await supervisor.waitForExit(second.id)
    expect(done.state, done.error ?? '').toBe('done')
    const logs = repo.logs(second.id).map((l) => l.text)
    for (const stage of ['Sources', 'URL filter', 'Download', 'Extract', 'Clean'])
      expect(logs).toContain(`${stage}: unchanged since the last run, reusing its output (${during.stages[stageKey(stage)].kept} kept).`)
    const report = JSON.parse(fs.readFileSync(path.join(params.datasetDir, 'duplicates.json'), 'utf8'))
    expect(report.nearRemoved).toBeGreaterThanOrEqual(copies.length * 0.9)

    const reference = path.join(dir, 'reference')
    await runPipeline(params.config, reference, inlineContext())
    expect(fs.readFileSync(path.join(params.datasetDir, 'train_data.json'))).toEqual(fs.readFileSync(path.join(reference, 'train_data.json')))
  })
})

function stageKey(label: string): string {
  return { Sources: 'sources', 'URL filter': 'urlFilter', Download: 'download', Extract: 'extract', Clean: 'clean' }[label]!
}
