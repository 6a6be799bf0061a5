// The app's train worker killed outright (SIGKILL, as an out-of-memory kill would) while the
// PyTorch engine trains: torchrun runs in its own process group, so nothing of the app is left
// to stop it, but gptw_torch.with_parent has the kernel send it SIGTERM when its parent dies. The
// ranks then pause as on the app's Pause: a checkpoint at the current step, and no process of the
// job left. The next start of the workspace registers that checkpoint, and the run resumes from it.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PYTHON, SLOW, describeTorch, makeDataset } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

const tiny = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

function workbench(root: string): Workbench {
  const wb = new Workbench({ workspaceRoot: root, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

/** The pids of every descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>()
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)])
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = []
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      out.push(c)
      walk(c)
    }
  }
  walk(pid)
  return out
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describeTorch('the PyTorch engine when the app worker is killed', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('stops every rank with a checkpoint at the current step, registered on the next start, and the run resumes from it', async () => {
    const root = tempDir('gptw-killed-')
    const wb = workbench(root)
    const config: TrainConfigInput = {
      ...tiny,
      engine: 'pytorch',
      python: PYTHON,
      devices: ['cpu:0', 'cpu:1'],
      batchSize: 4,
      steps: 5000,
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 2 }
    }
    const started = await wb.call('jobs.start', { kind: 'train', params: { config, dataset } })
    if (!started.ok) throw new Error(started.error.message)
    const job = started.value
    const run = wb.runs.byJob(job.id)!
    const losses = (): number[] =>
      wb.runs
        .metrics(run.id)
        .filter((m) => m.name === 'loss')
        .map((m) => m.step)
    await waitFor(() => losses().length >= 2, SLOW, 'two steps')
    const { pid: workerPid } = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(job.id) as { pid: number }
    const tree = descendants(workerPid)
    expect(tree.length).toBeGreaterThanOrEqual(3) // torchrun and its two ranks
    const seen = Math.max(...losses())

    process.kill(workerPid, 'SIGKILL')
    await waitFor(() => tree.every((p) => !alive(p)), SLOW, 'every process of the job to stop')
    const saved = fs
      .readdirSync(path.join(run.dir, 'checkpoints'))
      .map((n) => /^step-(\d+)$/.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
    expect(saved.length, 'a checkpoint written by the pause the kill set off').toBe(1)
    expect(saved[0]).toBeGreaterThanOrEqual(seen)
    await wb.supervisor.waitForExit(job.id)
    await wb.close()
    open.splice(open.indexOf(wb), 1)

    const again = workbench(root)
    expect(again.runs.checkpoints(run.id).map((c) => c.step)).toEqual(saved)
    const resumed = await again.call('jobs.start', { kind: 'train', params: { resume: { runId: run.id } } })
    if (!resumed.ok) throw new Error(resumed.error.message)
    await waitFor(
      () =>
        again.runs
          .metrics(run.id)
          .filter((m) => m.name === 'loss')
          .some((m) => m.step === saved[0] + 1),
      SLOW,
      'a step after the checkpoint'
    )
    await again.call('jobs.cancel', { id: resumed.value.id })
    await again.supervisor.waitForExit(resumed.value.id)
  })
})
