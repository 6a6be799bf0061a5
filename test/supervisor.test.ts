// The supervisor against real worker processes (the built tokenize worker) and a real database.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Job } from '../src/shared/jobs'
import { JobSupervisor } from '../src/main/services/jobs/supervisor'
import { type Db, openDatabase } from '../src/main/services/store/database'
import { JobsRepo } from '../src/main/services/store/jobs-repo'
import { decodeTokens } from '../src/core/data/gpt2-tokenizer'
import { PAUSED_LOG_LINE } from '../src/core/job-context'
import { readShard } from '../src/core/data/shards'
import { MOBY_DICK, WORKERS_DIR, bigCorpus, tempDir, waitFor } from './helpers'

let corpusDir: string
let big: string
beforeAll(() => {
  corpusDir = tempDir('gptw-corpus-')
  big = bigCorpus(corpusDir, 40)
})

const open: { db: Db; supervisor: JobSupervisor }[] = []
afterEach(async () => {
  for (const { db, supervisor } of open.splice(0)) {
    await supervisor.shutdown()
    db.close()
  }
})

function setup(workerPath?: string) {
  const dir = tempDir()
  const db = openDatabase(path.join(dir, 'wb.db'))
  const repo = new JobsRepo(db)
  const supervisor = new JobSupervisor(repo, { workerPath: () => workerPath ?? path.join(WORKERS_DIR, 'tokenize.js'), cancelGraceMs: 3000 })
  const events: Job[] = []
  supervisor.on('job', (job) => events.push(job))
  open.push({ db, supervisor })
  return { dir, db, repo, supervisor, events }
}

const tokenizeSpec = (input: string, outDir: string, valFraction = 0) => ({ kind: 'tokenize' as const, params: { input, outDir, valFraction } })

describe('job supervisor', () => {
  it('runs a tokenize worker to completion and stores progress, logs and result', async () => {
    const { dir, repo, supervisor, events } = setup()
    const outDir = path.join(dir, 'tokens')
    const job = supervisor.start(tokenizeSpec(MOBY_DICK, outDir))
    expect(job.state).toBe('running')
    const done = await supervisor.waitForExit(job.id)
    expect(done.state).toBe('done')
    expect(done.progress).toBe(1)
    expect(done.result).toMatchObject({ outDir, format: 'text', splits: { train: { documents: 1 } } })
    // Progress only moves forward, and was reported more than once.
    const progress = events.filter((e) => e.id === job.id).map((e) => e.progress)
    expect(progress.length).toBeGreaterThan(2)
    expect([...progress].sort((a, b) => a - b)).toEqual(progress)
    // The shard decodes back to the novel, plus the end-of-text token.
    const ids = readShard(outDir, 'train')
    expect(ids[ids.length - 1]).toBe(50256)
    expect(decodeTokens(ids.subarray(0, ids.length - 1))).toBe(fs.readFileSync(MOBY_DICK, 'utf8'))
    expect(repo.logs(job.id).some((l) => l.text.startsWith('Done:'))).toBe(true)
  })

  it('pauses a running job (no progress while paused) and resumes it to the end', async () => {
    const { dir, repo, supervisor } = setup()
    const job = supervisor.start(tokenizeSpec(big, path.join(dir, 'tokens')))
    await waitFor(() => repo.get(job.id)!.progress > 0.02, 30_000, 'first progress')
    expect(supervisor.pause(job.id).state).toBe('paused')
    // The worker logs when the pause has taken hold; all the progress it sent before has arrived by then.
    await waitFor(() => repo.logs(job.id).some((l) => l.text === PAUSED_LOG_LINE), 30_000, 'the worker to stop at a pause point')
    const frozen = repo.get(job.id)!.progress
    expect(frozen).toBeLessThan(1)
    // Another job runs from start to end meanwhile; the paused one does not move.
    const other = supervisor.start(tokenizeSpec(MOBY_DICK, path.join(dir, 'other')))
    expect((await supervisor.waitForExit(other.id)).state).toBe('done')
    expect(repo.get(job.id)!.progress).toBe(frozen)
    expect(supervisor.resume(job.id).state).toBe('running')
    const done = await supervisor.waitForExit(job.id)
    expect(done.state).toBe('done')
  })

  it('cancels a running job, removes its partial output and keeps it cancelled', async () => {
    const { dir, repo, supervisor } = setup()
    const outDir = path.join(dir, 'tokens')
    const job = supervisor.start(tokenizeSpec(big, outDir))
    await waitFor(() => repo.get(job.id)!.progress > 0.02, 30_000, 'first progress')
    supervisor.cancel(job.id)
    const ended = await supervisor.waitForExit(job.id)
    expect(ended.state).toBe('cancelled')
    expect(ended.progress).toBeLessThan(1)
    expect(fs.readdirSync(outDir)).toEqual([])
    expect(() => supervisor.cancel(job.id)).toThrow(/cancelled/)
  })

  it('marks a job failed with the reason when its worker is killed with SIGKILL, and damages nothing else', async () => {
    const { dir, db, repo, supervisor } = setup()
    const first = supervisor.start(tokenizeSpec(MOBY_DICK, path.join(dir, 'first')))
    await supervisor.waitForExit(first.id)
    const before = repo.get(first.id)!
    const firstLogs = repo.logs(first.id)

    const victim = supervisor.start(tokenizeSpec(big, path.join(dir, 'victim')))
    await waitFor(() => repo.get(victim.id)!.progress > 0.02, 30_000, 'first progress')
    const pid = db.prepare('SELECT pid FROM jobs WHERE id = ?').get(victim.id) as { pid: number }
    process.kill(pid.pid, 'SIGKILL')
    const failed = await supervisor.waitForExit(victim.id)
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(/killed by SIGKILL/)
    expect(repo.logs(victim.id).at(-1)?.text).toMatch(/SIGKILL/)

    expect(repo.get(first.id)).toEqual(before)
    expect(repo.logs(first.id)).toEqual(firstLogs)
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    // The supervisor still works after a death.
    const after = supervisor.start(tokenizeSpec(MOBY_DICK, path.join(dir, 'after')))
    expect((await supervisor.waitForExit(after.id)).state).toBe('done')
  })

  it('reports a worker error (a missing input) as a failed job with its message', async () => {
    const { dir, supervisor } = setup()
    const job = supervisor.start(tokenizeSpec(path.join(dir, 'missing.txt'), path.join(dir, 'out')))
    const failed = await supervisor.waitForExit(job.id)
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(/missing\.txt does not exist/)
  })

  it('ignores malformed worker messages with a warning and fails a worker that exits without a result', async () => {
    const dir = tempDir()
    const script = path.join(dir, 'rogue-worker.js')
    fs.writeFileSync(script, `process.on('message', () => { process.send({ type: 'progress', done: 'lots' }); process.send({ type: 'progress', done: 1, total: 4 }, () => process.exit(7)) })`)
    const { repo, supervisor } = setup(script)
    const job = supervisor.start(tokenizeSpec('x', 'y'))
    const failed = await supervisor.waitForExit(job.id)
    expect(failed.state).toBe('failed')
    expect(failed.error).toMatch(/exited with code 7/)
    expect(failed.progress).toBe(0.25)
    expect(repo.logs(job.id).some((l) => /malformed worker message/.test(l.text))).toBe(true)
  })

  it('logs a line written in two chunks as one line, and a last line without a newline', async () => {
    const dir = tempDir()
    const script = path.join(dir, 'chatty-worker.js')
    // Each half is its own write, a moment apart, so the halves reach main as separate chunks.
    fs.writeFileSync(
      script,
      `process.on('message', () => {
        process.stdout.write('first half and ')
        process.stderr.write('a warning cut ')
        setTimeout(() => {
          process.stdout.write('second half\\nnext line\\n')
          process.stderr.write('in two\\nlast words without a newline')
          process.exit(4)
        }, 300)
      })`
    )
    const { repo, supervisor } = setup(script)
    const job = supervisor.start(tokenizeSpec('x', 'y'))
    const failed = await supervisor.waitForExit(job.id)
    expect(failed.state).toBe('failed')
    await waitFor(() => repo.logs(job.id).some((l) => l.text.includes('last words')), 10_000, 'the last stderr line')
    const logs = repo.logs(job.id).map((l) => [l.level, l.text])
    expect(logs).toContainEqual(['info', 'first half and second half'])
    expect(logs).toContainEqual(['info', 'next line'])
    expect(logs).toContainEqual(['warn', 'a warning cut in two'])
    expect(logs).toContainEqual(['warn', 'last words without a newline'])
    expect(logs.filter(([level]) => level !== 'error')).toHaveLength(4)
    expect(failed.error).toMatch(/exited with code 4 before finishing\. Last output: a warning cut in two \| last words without a newline/)
  })

  it('after a host restart, marks jobs that were active as failed (interrupted)', async () => {
    const { db, repo } = setup()
    const job = repo.create('tokenize', {})
    repo.markStarted(job.id, 999999)
    const paused = repo.create('tokenize', {})
    repo.markStarted(paused.id, 999998)
    repo.setState(paused.id, 'paused')
    const restarted = new JobSupervisor(new JobsRepo(db), { workerPath: () => path.join(WORKERS_DIR, 'tokenize.js') })
    const recovered = restarted.recoverInterrupted()
    expect(recovered.map((j) => j.id)).toEqual([job.id, paused.id])
    expect(repo.get(job.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/Interrupted/) })
    expect(repo.get(paused.id)!.error).toMatch(/while this job was paused/)
  })
})
