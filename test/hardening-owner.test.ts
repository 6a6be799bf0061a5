// One owner per workspace (issue 13, F1): a second process (the CLI beside a host that trains)
// reads the workspace without failing the host's live job, and is refused what only the owner
// may do, with the owner's pid; recovery at start fails only jobs whose worker pid is dead; a
// lock left by a killed host is taken over.
import { execFile, spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../src/shared/config/train'
import type { Job, TrainParams } from '../src/shared/jobs'
import { ROOT, tempDir, waitFor } from './helpers'
import { closeWorkbench, closeWorkbenches, openWorkbench } from './workbench-fixture'

const run = promisify(execFile)
const GPTW = path.join(ROOT, 'bin', 'gptw.js')

afterEach(closeWorkbenches)
const workbench = openWorkbench
const close = closeWorkbench

/** Runs the CLI as its own process on the workspace; resolves with its exit code and output whatever the code. */
async function gptw(args: string[], home: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [GPTW, ...args], { env: { ...process.env, GPTW_HOME: home }, timeout: 60_000 })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

/** The pid of a process that has exited (its number is free again, for now). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''])
  await new Promise((resolve) => child.once('exit', resolve))
  return child.pid!
}

const long: TrainConfigInput = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 },
  batchSize: 2,
  steps: 100_000,
  optimizer: { lr: 1e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 0, keepLast: 1 },
  backend: 'wasm'
}

describe('workspace owner', () => {
  it('leaves a live job alone when `gptw jobs` runs in a second process, and refuses that process a resume, naming the owner', async () => {
    const root = tempDir('gptw-owner-')
    const wb = workbench(root)
    const started = await wb.call('jobs.start', { kind: 'train', params: { config: long } as TrainParams })
    if (!started.ok) throw new Error(started.error.message)
    const jobId = started.value.id
    const runId = wb.runs.byJob(jobId)!.id
    await waitFor(() => wb.runs.metrics(runId).length > 0, 60_000, 'the first training step')

    const listed = await gptw(['jobs', '--json'], root)
    expect(listed.code, listed.stderr).toBe(0)
    const seen = (JSON.parse(listed.stdout) as Job[]).find((j) => j.id === jobId)!
    expect(seen.state).toBe('running')

    // The host's job is still running, with no "Interrupted" verdict, and its worker still trains.
    const job = wb.jobs.get(jobId)!
    expect(job.state, job.error ?? '').toBe('running')
    expect(job.error).toBeNull()
    const steps = wb.runs.metrics(runId).length
    await waitFor(() => wb.runs.metrics(runId).length > steps, 60_000, 'more training steps after gptw jobs')

    const refused = await gptw(['train', '--resume', String(runId)], root)
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain(`in use by process ${process.pid}`)
    expect(wb.jobs.list().filter((j) => j.kind === 'train')).toHaveLength(1)

    wb.supervisor.cancel(jobId)
    expect((await wb.supervisor.waitForExit(jobId)).state).toBe('cancelled')
  })

  it('refuses a second workbench in the same process the job methods, and gives the workspace up on close', async () => {
    const root = tempDir('gptw-owner-')
    const first = workbench(root)
    const second = workbench(root)
    const reply = await second.call('jobs.start', { kind: 'train', params: { config: long } as TrainParams })
    expect(reply.ok).toBe(false)
    if (!reply.ok) expect(reply.error).toMatchObject({ code: 'conflict', message: expect.stringContaining(`in use by process ${process.pid}`) })
    expect([first.lock.owner, second.lock.owner]).toEqual([true, false])
    expect((await second.call('jobs.list', undefined)).ok).toBe(true)
    await close(first)
    expect(fs.existsSync(path.join(root, 'workbench.lock'))).toBe(false)
    expect(workbench(root).lock.owner).toBe(true)
  })

  it('takes over the lock of a killed host and fails only the jobs whose worker pid is dead', async () => {
    const root = tempDir('gptw-owner-')
    const wb = workbench(root)
    const gone = wb.jobs.create('tokenize', { input: 'a.txt' })
    const alive = wb.jobs.create('tokenize', { input: 'b.txt' })
    const queued = wb.jobs.create('tokenize', { input: 'c.txt' })
    const reused = wb.jobs.create('tokenize', { input: 'd.txt' })
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    try {
      wb.jobs.markStarted(gone.id, await deadPid())
      wb.jobs.markStarted(alive.id, sleeper.pid!)
      // A worker pid that now names a process started after the job did (the number came round again).
      wb.jobs.markStarted(reused.id, sleeper.pid!)
      wb.db.prepare(`UPDATE jobs SET started_at = started_at - 3600000 WHERE id = ?`).run(reused.id)
      await close(wb)
      // A host killed with SIGKILL leaves its lock behind, naming a pid that no longer runs.
      fs.writeFileSync(path.join(root, 'workbench.lock'), JSON.stringify({ pid: await deadPid() }))

      const next = workbench(root)
      expect(next.jobs.get(gone.id)).toMatchObject({ state: 'failed', error: expect.stringMatching(/^Interrupted/) })
      expect(next.jobs.get(queued.id)!.state).toBe('failed')
      if (process.platform === 'linux') expect(next.jobs.get(reused.id)!.state).toBe('failed')
      expect(next.jobs.get(alive.id)).toMatchObject({ state: 'running', error: null })
      expect(next.lock.owner).toBe(true)
    } finally {
      sleeper.kill()
    }
  })

  it.runIf(process.platform === 'linux')('yields to a live lock holder, and takes over a lock whose pid now names a later process', async () => {
    const root = tempDir('gptw-owner-')
    const lockFile = path.join(root, 'workbench.lock')
    const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'])
    try {
      await waitFor(() => fs.existsSync(`/proc/${sleeper.pid}/stat`), 10_000, 'the sleeper process')
      fs.writeFileSync(lockFile, JSON.stringify({ pid: sleeper.pid, since: Date.now() }))
      const reader = workbench(root)
      expect(reader.lock).toMatchObject({ owner: false, ownerPid: sleeper.pid })
      await close(reader)
      expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(sleeper.pid)
      fs.writeFileSync(lockFile, JSON.stringify({ pid: sleeper.pid, since: Date.now() - 3_600_000 }))
      expect(workbench(root).lock.owner).toBe(true)
      expect(JSON.parse(fs.readFileSync(lockFile, 'utf8')).pid).toBe(process.pid)
    } finally {
      sleeper.kill()
    }
  })
})
