// The app's train worker killed outright (SIGKILL, as an out-of-memory kill would) while the
// PyTorch engine trains: torchrun runs in its own process group, so nothing of the app is left
// to stop it, but gptw_torch.with_parent has the kernel signal it when its parent dies, and sends
// each rank the pause's SIGTERM. The ranks then pause as on the app's Pause: a checkpoint at the
// current step, and no process of the job left. The next start of the workspace registers that
// checkpoint, and the run resumes from it.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { SLOW, alive, descendants, describeTorch, longTorchRun, lossSteps, makeDataset, rankLogs, startTrain } from './helpers'

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(root: string): Workbench {
  const wb = new Workbench({ workspaceRoot: root, workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

describeTorch('the PyTorch engine when the app worker is killed', () => {
  let dataset: string
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 60_000).dir
  })

  it('stops every rank with a checkpoint at the current step, registered on the next start, and the run resumes from it', async () => {
    const root = tempDir('gptw-killed-')
    const wb = workbench(root)
    const jobId = await startTrain(wb, { config: longTorchRun(2), dataset })
    const run = wb.runs.byJob(jobId)!
    const losses = (): number[] => lossSteps(wb, run.id)
    await waitFor(() => losses().length >= 2, SLOW, 'two steps')
    const { pid: workerPid } = wb.db.prepare('SELECT pid FROM jobs WHERE id = ?').get(jobId) as { pid: number }
    const tree = descendants(workerPid)
    expect(tree.length).toBeGreaterThanOrEqual(3) // torchrun and its two ranks
    const seen = Math.max(...losses())

    process.kill(workerPid, 'SIGKILL')
    const killedAt = Date.now()
    const gone = new Map<number, number>()
    await waitFor(
      () => {
        for (const p of tree) if (!gone.has(p.pid) && !alive(p.pid)) gone.set(p.pid, Date.now() - killedAt)
        return gone.size === tree.length
      },
      SLOW,
      'every process of the job to stop'
    )
    console.log(`worker killed; gone after: ${tree.map((p) => `${p.pid} ${p.args.slice(0, 60)}: ${gone.get(p.pid)} ms`).join('; ')}`)
    const checkpoints = path.join(run.dir, 'checkpoints')
    expect(fs.existsSync(checkpoints), `no checkpoint folder; the ranks' stderr:\n${rankLogs(run.dir)}`).toBe(true)
    const saved = fs
      .readdirSync(checkpoints)
      .map((n) => /^step-(\d+)$/.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
    expect(saved.length, `a checkpoint written by the pause the kill set off; the ranks' stderr:\n${rankLogs(run.dir)}`).toBe(1)
    expect(saved[0]).toBeGreaterThanOrEqual(seen)
    await wb.supervisor.waitForExit(jobId)
    await wb.close()
    open.splice(open.indexOf(wb), 1)

    const again = workbench(root)
    expect(again.runs.checkpoints(run.id).map((c) => c.step)).toEqual(saved)
    const resumed = await startTrain(again, { resume: { runId: run.id } })
    await waitFor(() => lossSteps(again, run.id).includes(saved[0] + 1), SLOW, 'a step after the checkpoint')
    await again.call('jobs.cancel', { id: resumed })
    await again.supervisor.waitForExit(resumed)
  })
})
