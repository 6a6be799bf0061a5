// Data parallelism under torchrun: two CPU processes (gloo) train to the same losses and
// parameters as one process with the same global batch, as two launches joined over loopback
// (--nnodes 2, the two-machine case) do too. Every rank draws the same global batch and keeps its
// slice (data.py), DDP averages the gradients, rank 0 reports and saves.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { MODEL_FILE } from '../../src/core/engine/checkpoint'
import { readSafetensors } from '../../src/core/engine/safetensors'
import { LOCAL_RENDEZVOUS } from '../../src/shared/torchrun'
import { tempDir } from '../helpers'
import { DATA_PARALLEL_CONFIG, PACKAGE_DIR, SLOW, PYTHON, type StepRecord, describeTorch, descendants, freePort, makeDataset, records, relativeError, steps, trainPython } from './helpers'

const CONFIG = DATA_PARALLEL_CONFIG

let dataset: string
let single: { steps: StepRecord[]; checkpoints: string }

// torch 1.13's launcher on Python 3.11 cannot parse its own default "--redirects 0 --tee 0"
// (IntFlag iteration changed); redirecting stderr to its log folder and teeing it back works on every version.
const LAUNCHER = ['-m', 'torch.distributed.run', ...LOCAL_RENDEZVOUS, '--redirects', '2', '--tee', '2']

/**
 * Runs a launcher in its own process group; if it outlives the test's time (a rendezvous or a
 * collective that never completes), each rank is first asked for its Python stacks (SIGUSR2:
 * faulthandler in train.py), which land in stderr and so in the failure's message, then the whole
 * group is killed.
 */
function run(args: string[], onStdout?: (text: string, pid: number) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: PACKAGE_DIR, detached: true, env: { ...process.env, PYTHONPATH: PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1' } })
    const timer = setTimeout(() => {
      const ranks = descendants(child.pid!).filter((p) => p.args.includes('gptw_torch train') && !p.args.includes('torch.distributed.run'))
      for (const r of ranks) process.kill(r.pid, 'SIGUSR2')
      const dumped = (): boolean => (stderr.match(/Current thread 0x/g) ?? []).length >= ranks.length
      const started = Date.now()
      const poll = setInterval(() => {
        if (!dumped() && Date.now() - started < 10_000) return
        clearInterval(poll)
        process.kill(-child.pid!, 'SIGKILL')
      }, 100)
    }, SLOW - 20_000)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
      onStdout?.(stdout, child.pid!)
    })
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

function trainArgs(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true })
  const file = path.join(dir, 'run.json')
  fs.writeFileSync(file, JSON.stringify(CONFIG))
  return ['-m', 'gptw_torch', 'train', '--config', file, '--dataset', dataset, '--out', dir]
}

function expectSameRun(dir: string, stdout: string): void {
  const got = steps(stdout)
  expect(got.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6])
  const lossError = Math.max(...got.map((s, i) => relativeError([s.loss], [single.steps[i].loss])))
  const normError = Math.max(...got.map((s, i) => relativeError([s.gradNorm], [single.steps[i].gradNorm])))
  const a = readSafetensors(path.join(single.checkpoints, 'step-6', MODEL_FILE)).tensors
  const b = readSafetensors(path.join(dir, 'checkpoints', 'step-6', MODEL_FILE)).tensors
  const weightError = Math.max(...[...a].map(([name, t]) => relativeError(b.get(name)!.data, t.data)))
  console.log(`${path.basename(dir)}: max relative difference from one process: loss ${lossError.toExponential(2)}, grad norm ${normError.toExponential(2)}, weights ${weightError.toExponential(2)}`)
  expect(lossError).toBeLessThan(1e-5)
  expect(normError).toBeLessThan(1e-5)
  expect(weightError).toBeLessThan(1e-3)
}

describeTorch('torchrun', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 50_000).dir
    single = trainPython(tempDir(), CONFIG, dataset)
    expect(single.steps).toHaveLength(6)
  }, SLOW)

  it('two CPU processes (gloo) train to the losses and parameters of one process with the same global batch', async () => {
    const dir = path.join(tempDir(), 'two-processes')
    const r = await run([...LAUNCHER, '--nproc_per_node', '2', ...trainArgs(dir)])
    expect(r.code, r.stderr).toBe(0)
    expect(records(r.stdout).find((x) => x.type === 'start')).toMatchObject({ world: 2, deviceType: 'cpu' })
    // Only rank 0 reports and saves.
    expect(steps(r.stdout)).toHaveLength(6)
    expectSameRun(dir, r.stdout)
  })

  it('pauses on SIGTERM at a step the ranks agree on, with a checkpoint, and one process resumes it as the uninterrupted run', async () => {
    const dir = path.join(tempDir(), 'paused')
    let signalled = false
    // Signalled as soon as rank 0 reports its start: the ranks finish the step they are in, agree on it, save and stop.
    const r = await run([...LAUNCHER, '--nproc_per_node', '2', ...trainArgs(dir)], (text, pid) => {
      if (!signalled && text.includes('"type": "start"')) {
        signalled = true
        process.kill(pid, 'SIGTERM')
      }
    })
    expect(signalled).toBe(true)
    const out = records(r.stdout)
    const paused = out.find((x) => x.type === 'paused') as { step: number; dir: string } | undefined
    expect(paused, r.stderr).toBeDefined()
    expect(paused!.step).toBeLessThan(6)
    expect(out.some((x) => x.type === 'done')).toBe(false)
    expect(steps(r.stdout).at(-1)!.step).toBe(paused!.step)
    expect(fs.existsSync(path.join(paused!.dir, 'optimizer.safetensors'))).toBe(true)
    // Resumed in one process (the batches do not depend on the world size): the rest of the single run.
    const resumed = trainPython(path.join(tempDir(), 'resumed'), CONFIG, dataset, ['--resume', paused!.dir])
    expect(resumed.steps.map((s) => s.step)).toEqual(single.steps.slice(paused!.step).map((s) => s.step))
    resumed.steps.forEach((s, i) => expect(relativeError([s.loss], [single.steps[paused!.step + i].loss])).toBeLessThan(1e-5))
  })

  it('two launches joined over loopback (--nnodes 2, one process each) do the same', async () => {
    const dir = path.join(tempDir(), 'two-nodes')
    const port = await freePort()
    const node = (rank: number) =>
      run([
        ...LAUNCHER,
        '--nnodes',
        '2',
        '--node_rank',
        String(rank),
        '--nproc_per_node',
        '1',
        '--rdzv_backend',
        'c10d',
        '--rdzv_endpoint',
        `127.0.0.1:${port}`,
        '--rdzv_id',
        `gptw-test-${port}`,
        ...trainArgs(dir)
      ])
    const [first, second] = await Promise.all([node(0), node(1)])
    expect(first.code, first.stderr).toBe(0)
    expect(second.code, second.stderr).toBe(0)
    // Rank 0 runs on whichever launch the rendezvous made node 0; the other prints no steps.
    const out = steps(first.stdout).length ? first.stdout : second.stdout
    expect(steps(first.stdout).length + steps(second.stdout).length).toBe(6)
    expect(records(out).find((x) => x.type === 'start')).toMatchObject({ world: 2 })
    expectSameRun(dir, out)
  })
})
