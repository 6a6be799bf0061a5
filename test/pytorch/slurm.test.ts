// The Slurm launcher's sbatch script (core/engine/pytorch/slurm.ts buildSlurm, from a config's
// launcher key): it parses (`bash -n`), asks Slurm for what the config says, and its srun line
// trains. No Slurm here: the script runs as Slurm would run it on a one-node job, with SLURM_*
// set and `srun` / `scontrol` replaced by stand-ins that start the command once on this machine
// and name it as the job's only node; torchrun's c10d rendezvous, the 2 CPU ranks and the trainer
// are the real ones. Where a Slurm answers (sinfo: slurmctld + slurmd, e.g. Debian's slurm-wlm on
// localhost), the app's job path runs against it too: sbatch, the log followed, squeue to the end.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterEach, beforeAll, expect, it } from 'vitest'
import { TrainConfig, type TrainConfigInput } from '../../src/shared/config/train'
import { buildSlurm } from '../../src/core/engine/pytorch/slurm'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir } from '../helpers'
import { PACKAGE_DIR, PYTHON, describeTorch, makeDataset, records } from './helpers'

const tinyPreset = (JSON.parse(fs.readFileSync(path.join(RESOURCES_DIR, 'presets', 'tiny-cpu.json'), 'utf8')) as { config: TrainConfigInput }).config

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
}

let dataset: string

/** A Slurm that answers here (sinfo lists an idle or mixed node): the job path runs against it, else that test skips. */
const slurmUp = (() => {
  const r = spawnSync('sinfo', ['-h', '-o', '%t'], { encoding: 'utf8', timeout: 10_000 })
  return r.status === 0 && /idle|mix/.test(r.stdout)
})()

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

describeTorch('the Slurm launcher', () => {
  beforeAll(() => {
    dataset = makeDataset(tempDir(), 40_000).dir
  })

  it('asks sbatch for the launcher settings; the script parses and its srun line trains 2 steps on 2 CPU ranks', async () => {
    const port = await freePort()
    const launcher = { kind: 'slurm', nodes: 1, gpusPerNode: 0, cpuProcesses: 2, time: '00:30:00', partition: 'debug', account: 'lab-7', rdzvPort: port } as const
    const config = TrainConfig.parse({
      ...tinyPreset,
      engine: 'pytorch',
      python: PYTHON,
      devices: ['cpu:0', 'cpu:1'],
      batchSize: 4,
      steps: 2,
      eval: { interval: 0 },
      checkpoint: { interval: 0, keepLast: 1 },
      launcher
    })
    const dir = tempDir()
    const runDir = path.join(dir, 'run with space')
    fs.mkdirSync(runDir)
    const configFile = path.join(runDir, 'pytorch-config.json')
    fs.writeFileSync(configFile, JSON.stringify(config))
    const script = buildSlurm({ config, python: PYTHON, configFile, datasetDir: dataset, runDir, packageDir: PACKAGE_DIR })
    const file = path.join(dir, 'job.sbatch')
    fs.writeFileSync(file, script)

    const syntax = spawnSync('bash', ['-n', file], { encoding: 'utf8' })
    expect(syntax.status, syntax.stderr).toBe(0)
    const directives = script.split('\n').filter((l) => l.startsWith('#SBATCH'))
    expect(directives).toEqual(
      expect.arrayContaining([
        '#SBATCH --nodes=1',
        '#SBATCH --ntasks-per-node=1',
        '#SBATCH --cpus-per-task=2',
        '#SBATCH --time=00:30:00',
        '#SBATCH --partition=debug',
        '#SBATCH --account=lab-7',
        `#SBATCH --output=${runDir}/slurm-%j.log`
      ])
    )
    const srun = script.split('\n').find((l) => l.startsWith('srun '))!
    expect(srun).toContain(`-m torch.distributed.run --nnodes "$SLURM_NNODES" --nproc_per_node 2 --rdzv_backend c10d --rdzv_endpoint "$head_node:${port}"`)
    expect(srun).toContain(`--out '${runDir}'`)

    // Stand-ins: srun drops its own options and runs the command once; scontrol names this machine as the job's node list.
    const bin = path.join(dir, 'bin')
    fs.mkdirSync(bin)
    fs.writeFileSync(path.join(bin, 'srun'), '#!/bin/bash\nwhile [[ "$1" == --* ]]; do shift; done\nexec "$@"\n', { mode: 0o755 })
    fs.writeFileSync(path.join(bin, 'scontrol'), '#!/bin/bash\n[ "$1 $2" = "show hostnames" ] && echo "$3"\n', { mode: 0o755 })
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, SLURM_NNODES: '1', SLURM_JOB_ID: '4242', SLURM_JOB_NODELIST: 'localhost', SLURM_NODEID: '0' }
    const t0 = Date.now()
    const ran = spawnSync('bash', [file], { encoding: 'utf8', env, timeout: 240_000, maxBuffer: 64 << 20 })
    expect(ran.status, `${ran.stdout}\n${ran.stderr}`).toBe(0)
    const lines = records(ran.stdout)
    const start = lines.find((r) => r.type === 'start')!
    expect(start.world).toBe(2)
    const steps = lines.filter((r) => r.type === 'step') as { step: number; loss: number }[]
    expect(steps.map((s) => s.step)).toEqual([1, 2])
    for (const s of steps) expect(s.loss).toBeGreaterThan(5)
    expect(lines.find((r) => r.type === 'done')).toMatchObject({ steps: 2 })
    expect(fs.existsSync(path.join(runDir, 'checkpoints', 'step-2', 'model.safetensors'))).toBe(true)
    console.log(
      `sbatch script's srun line without Slurm (1 node, 2 CPU ranks, c10d at localhost:${port}): losses ${steps.map((s) => s.loss.toFixed(4)).join(', ')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`
    )
  })

  it.skipIf(!slurmUp)('a real Slurm: the app submits the run with sbatch and follows its log to the end', async () => {
    const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
    open.push(wb)
    const launcher = { kind: 'slurm', nodes: 1, gpusPerNode: 0, cpuProcesses: 2, time: '00:10:00', rdzvPort: await freePort() }
    const params = {
      config: { ...tinyPreset, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'], batchSize: 4, steps: 3, eval: { interval: 0 }, checkpoint: { interval: 0, keepLast: 1 }, launcher },
      dataset
    }
    const r = await wb.call('jobs.start', { kind: 'train', params })
    if (!r.ok) throw new Error(r.error.message)
    const ended = await wb.supervisor.waitForExit(r.value.id)
    const logs = wb.jobs.logs(r.value.id, 0, 5000).map((l) => l.text)
    expect(ended.state, `${ended.error}\n${logs.join('\n')}`).toBe('done')
    const run = wb.runs.byJob(r.value.id)!
    const losses = wb.runs.metrics(run.id).filter((m) => m.name === 'loss')
    expect(losses.map((m) => m.step)).toEqual([1, 2, 3])
    expect(wb.runs.checkpoints(run.id).map((c) => c.step)).toEqual([3])
    expect(logs.some((l) => /^Submitted Slurm job \d+/.test(l))).toBe(true)
    console.log(`real Slurm (slurmctld + slurmd here): ${logs.find((l) => l.startsWith('Submitted'))}; losses ${losses.map((m) => m.value.toFixed(4)).join(', ')}`)
  })
})
