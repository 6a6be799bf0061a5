// gptw train on the PyTorch engine: --dry-run prints the torchrun command (and starts nothing),
// a missing interpreter is an error naming GPTW_PYTHON, and --json prints the same step lines on
// both engines: the tiny preset's losses agree step by step.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, it } from 'vitest'
import { ROOT, tempDir } from '../helpers'
import { PYTHON, describeTorch, makeDataset, relativeError } from './helpers'

const GPTW = path.join(ROOT, 'bin', 'gptw.js')

function gptw(home: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GPTW, ...args], { env: { ...process.env, GPTW_HOME: home, GPTW_PYTHON: PYTHON, ...env }, encoding: 'utf8', timeout: 280_000 })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

let dataset: string

describeTorch('gptw train --engine pytorch', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 40_000).dir
  })

  it('--dry-run prints the torchrun command for the devices and starts nothing', () => {
    const home = tempDir()
    const r = gptw(home, ['train', '--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', '--dataset', dataset, '--dry-run'])
    expect(r.status, r.stderr).toBe(0)
    const packageDir = path.join(ROOT, 'python')
    expect(r.stdout.trim()).toBe(
      `PYTHONPATH=${packageDir} PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 ${PYTHON} -m torch.distributed.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --rdzv_id gptw-local --nproc_per_node 2 --redirects 2 --tee 2 --log_dir RUN_DIR/torchrun-logs -m gptw_torch train --config RUN_DIR/pytorch-config.json --dataset ${dataset} --out RUN_DIR --device cpu`
    )
    expect(r.stderr).toContain("RUN_DIR: the run's folder")
    expect(fs.existsSync(path.join(home, 'runs')) ? fs.readdirSync(path.join(home, 'runs')) : []).toEqual([])
    const embedded = gptw(home, ['train', '--engine', 'embedded', '--dataset', dataset, '--dry-run'])
    expect(embedded.status, embedded.stderr).toBe(0)
    expect(embedded.stdout).toMatch(/^Engine embedded \(config engine embedded\): no external command; the app's train worker trains on backend auto, devices cpu:0 \(1 process\)/)
    const json = gptw(home, ['train', '--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', '--init', dataset, '--dry-run', '--json'])
    const parsed = JSON.parse(json.stdout) as { engine: string; args: string[]; torch: string }
    expect(parsed.engine).toBe('pytorch')
    expect(parsed.args.slice(-2)).toEqual(['--init', dataset])
    expect(parsed.torch).toMatch(/^\d+\.\d+/)
  })

  it('a missing interpreter is an error naming GPTW_PYTHON', () => {
    const r = gptw(tempDir(), ['train', '--engine', 'pytorch', '--dataset', dataset, '--dry-run'], { GPTW_PYTHON: '/nonexistent/bin/python3' })
    expect(r.status).toBe(1)
    expect(r.stderr).toContain('The Python interpreter /nonexistent/bin/python3 (GPTW_PYTHON) was not found. Set GPTW_PYTHON')
    const run = gptw(tempDir(), ['train', '--engine', 'pytorch', '--dataset', dataset, '--steps', '1'], { GPTW_PYTHON: '/nonexistent/bin/python3' })
    expect(run.status).toBe(1)
    expect(run.stderr).toContain('(GPTW_PYTHON) was not found. Set GPTW_PYTHON')
  })

  it('--json prints the same step lines on both engines, with the same losses', () => {
    const home = tempDir()
    const lines = (stdout: string) =>
      stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    const torch = gptw(home, ['train', '--engine', 'pytorch', '--devices', 'cpu:0,cpu:1', '--dataset', dataset, '--steps', '3', '--json'])
    expect(torch.status, torch.stderr).toBe(0)
    const embedded = gptw(home, ['train', '--dataset', dataset, '--steps', '3', '--json'])
    expect(embedded.status, embedded.stderr).toBe(0)
    const [a, b] = [lines(torch.stdout), lines(embedded.stdout)]
    expect(a.map((l) => l.step ?? l.done)).toEqual([1, 2, 3, 'done'])
    expect(b.map((l) => l.step ?? l.done)).toEqual([1, 2, 3, 'done'])
    for (const key of ['loss', 'lr', 'gradNorm', 'tokensPerSec', 'tokens', 'elapsed']) expect(typeof a[0][key], key).toBe('number')
    const errors = [0, 1, 2].map((i) => relativeError([a[i].loss as number], [b[i].loss as number]))
    console.log(
      `tiny-cpu, 3 steps: pytorch (2 processes) ${a
        .slice(0, 3)
        .map((l) => (l.loss as number).toFixed(5))
        .join(', ')}; embedded ${b
        .slice(0, 3)
        .map((l) => (l.loss as number).toFixed(5))
        .join(', ')}; max relative difference ${Math.max(...errors).toExponential(2)}`
    )
    expect(Math.max(...errors)).toBeLessThan(1e-4)
    expect(a[3]).toMatchObject({ done: 'done', result: { backend: 'pytorch', steps: 3 } })
  })
})
