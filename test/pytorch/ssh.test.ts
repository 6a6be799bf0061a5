// The SSH launcher against a real sshd: the test starts Debian's sshd on a free port of 127.0.0.1
// with a throwaway host key and user key in a temp folder, then the app runs the PyTorch engine on
// two "hosts" that are both this machine (--nnodes 2, one CPU process each, static rendezvous at
// the first): the host checks, the losses (the same as a local 2-process run), and a cancel that
// leaves no process of the run on any host (they are sshd's children, not the worker's: found by
// the run folder in their command lines). Skipped without sshd on a developer machine; under
// CI=true it must run (.ci/run installs openssh-server).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest'
import type { TrainConfigInput } from '../../src/shared/config/train'
import type { Job } from '../../src/shared/jobs'
import { checkSshHosts } from '../../src/core/engine/pytorch/ssh'
import { PAUSED_LOG_LINE } from '../../src/core/job-context'
import { Workbench } from '../../src/main/services/workbench'
import { RESOURCES_DIR, WORKERS_DIR, tempDir, waitFor } from '../helpers'
import { PACKAGE_DIR, PYTHON, SLOW, TINY_PRESET, describeTorch, freePort, makeDataset } from './helpers'

const SSHD = '/usr/sbin/sshd'
const haveSshd = fs.existsSync(SSHD)
const ci = process.env.CI === 'true'

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

let sshd: ChildProcess | undefined
let sshOptions: string[] = []
let dataset: string
let sshdLog = ''

const open: Workbench[] = []
afterEach(async () => {
  for (const wb of open.splice(0)) await wb.close()
})

function workbench(): Workbench {
  const wb = new Workbench({ workspaceRoot: tempDir(), workersDir: WORKERS_DIR, resourcesDir: RESOURCES_DIR, host: 'web', version: 'test' })
  open.push(wb)
  return wb
}

async function start(wb: Workbench, params: unknown): Promise<Job> {
  const r = await wb.call('jobs.start', { kind: 'train', params })
  if (!r.ok) throw new Error(r.error.message)
  return r.value
}

function config(over: Partial<TrainConfigInput>, workDir: string, rdzvPort: number): TrainConfigInput {
  const hosts = [0, 1].map(() => ({ host: '127.0.0.1', gpus: 0, workDir }))
  return { ...TINY_PRESET, engine: 'pytorch', python: PYTHON, devices: ['cpu:0', 'cpu:1'], batchSize: 4, eval: { interval: 0 }, launcher: { kind: 'ssh', hosts, sshOptions, rdzvPort }, ...over }
}

/** Processes (any parent) whose command line names the folder: a run's torchrun and ranks, wherever sshd started them. */
function processesOf(folder: string): { pid: number; args: string }[] {
  const out: { pid: number; args: string }[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (args.includes(folder) && args.includes('gptw_torch')) out.push({ pid: Number(entry), args })
    } catch {
      // gone meanwhile
    }
  }
  return out
}

describeTorch('the SSH launcher', () => {
  beforeAll(async () => {
    if (!haveSshd) {
      if (ci) throw new Error(`${SSHD} is missing: install Debian's openssh-server (.ci/run does).`)
      return
    }
    const dir = tempDir()
    const keygen = (file: string): void => {
      const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`)
    }
    keygen(path.join(dir, 'host_key'))
    keygen(path.join(dir, 'user_key'))
    fs.copyFileSync(path.join(dir, 'user_key.pub'), path.join(dir, 'authorized_keys'))
    const port = await freePort()
    fs.writeFileSync(
      path.join(dir, 'sshd_config'),
      [
        `Port ${port}`,
        'ListenAddress 127.0.0.1',
        `HostKey ${dir}/host_key`,
        `AuthorizedKeysFile ${dir}/authorized_keys`,
        `PidFile ${dir}/sshd.pid`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        'MaxStartups 50',
        'MaxSessions 50'
      ].join('\n') + '\n'
    )
    fs.mkdirSync('/run/sshd', { recursive: true }) // its privilege separation folder, absent until the package's service first runs
    sshd = spawn(SSHD, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] })
    sshd.stderr!.on('data', (b: Buffer) => (sshdLog = (sshdLog + b.toString()).slice(-4000)))
    await waitFor(() => connects(port), 20_000, `sshd on port ${port}: ${sshdLog}`)
    sshOptions = ['-p', String(port), '-i', path.join(dir, 'user_key')]
    dataset = makeDataset(tempDir(), 40_000).dir
  })
  afterAll(() => {
    sshd?.kill('SIGTERM')
  })

  it.skipIf(!haveSshd && !ci)('checks each host: torch and gptw_torch import, the dataset is there; a missing dataset names the host', async () => {
    const hosts = [{ host: '127.0.0.1', gpus: 0, workDir: tempDir() }]
    const good = await checkSshHosts({ hosts, sshOptions, python: PYTHON, packageDir: PACKAGE_DIR, datasetDir: dataset })
    expect(good, sshdLog).toEqual([{ host: '127.0.0.1', ok: true, torch: expect.stringMatching(/^\d+\.\d+/) }])
    const bad = await checkSshHosts({ hosts, sshOptions, python: PYTHON, packageDir: PACKAGE_DIR, datasetDir: '/nonexistent/tokens' })
    expect(bad[0]).toMatchObject({ host: '127.0.0.1', ok: false, problem: 'the dataset /nonexistent/tokens (train.bin) is not there' })
    const nopy = await checkSshHosts({ hosts, sshOptions, python: '/nonexistent/python3', packageDir: PACKAGE_DIR, datasetDir: dataset })
    expect(nopy[0].ok).toBe(false)
    expect(nopy[0].problem).toMatch(/cannot import torch/)
  })

  it.skipIf(!haveSshd && !ci)('two hosts over ssh (2 nodes x 1 CPU process) train 3 steps with the losses of a local 2-process run', async () => {
    const wb = workbench()
    const remote = await start(wb, { config: config({ steps: 3, checkpoint: { interval: 0, keepLast: 1 } }, tempDir(), await freePort()), dataset })
    const local = await start(wb, { config: { ...config({ steps: 3, checkpoint: { interval: 0, keepLast: 1 } }, tempDir(), await freePort()), launcher: { kind: 'local' } }, dataset })
    const logs = (id: number): string =>
      wb.jobs
        .logs(id, 0, 5000)
        .map((l) => l.text)
        .join('\n')
    const [a, b] = [await wb.supervisor.waitForExit(remote.id), await wb.supervisor.waitForExit(local.id)]
    expect(a.state, `${a.error}\n${logs(remote.id)}\n${sshdLog}`).toBe('done')
    expect(b.state, `${b.error}`).toBe('done')
    const losses = (id: number): number[] =>
      wb.runs
        .metrics(wb.runs.byJob(id)!.id)
        .filter((m) => m.name === 'loss')
        .map((m) => m.value)
    const [ssh, here] = [losses(remote.id), losses(local.id)]
    console.log(`ssh 2 nodes x 1: ${ssh.map((l) => l.toFixed(6)).join(', ')}; local 2 processes: ${here.map((l) => l.toFixed(6)).join(', ')}`)
    expect(ssh).toHaveLength(3)
    for (let i = 0; i < 3; i++) expect(Math.abs(ssh[i] - here[i]) / here[i]).toBeLessThan(1e-5)
    expect(logs(remote.id)).toMatch(/Host 127\.0\.0\.1: torch \S+, dataset found\./)
    expect(logs(remote.id)).toContain('--nnodes 2 --node_rank 1')
    expect(wb.runs.byJob(remote.id)!.backend).toMatch(/^pytorch \S+ cpu \(2 processes, gloo/)
    const ckpt = wb.runs.checkpoints(wb.runs.byJob(remote.id)!.id).at(-1)!
    expect(ckpt.step).toBe(3)
    expect(fs.existsSync(path.join(ckpt.path, 'model.safetensors'))).toBe(true)
  })

  it.skipIf(!haveSshd && !ci)('cancel stops every process of the run on every host', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 500, checkpoint: { interval: 0, keepLast: 1 } }, tempDir(), await freePort()), dataset })
    const run = wb.runs.byJob(job.id)!
    await waitFor(() => wb.runs.metrics(run.id).some((m) => m.name === 'loss'), SLOW, 'a first step over ssh')
    const before = processesOf(run.dir)
    // Per node: torchrun and its rank.
    expect(before.length, before.map((p) => p.args).join('\n')).toBeGreaterThanOrEqual(4)
    await wb.call('jobs.cancel', { id: job.id })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state).toBe('cancelled')
    await waitFor(() => processesOf(run.dir).length === 0, 20_000, 'no process of the run left on any host')
    console.log(`cancel over ssh: ${before.length} processes (${before.map((p) => p.pid).join(', ')}) all gone`)
  })

  it.skipIf(!haveSshd && !ci)('pause checkpoints on every host and stops every process; resume relaunches over ssh from that checkpoint', async () => {
    const wb = workbench()
    const job = await start(wb, { config: config({ steps: 8, checkpoint: { interval: 0, keepLast: 5 } }, tempDir(), await freePort()), dataset })
    const run = wb.runs.byJob(job.id)!
    const steps = (): number[] =>
      wb.runs
        .metrics(run.id)
        .filter((m) => m.name === 'loss')
        .map((m) => m.step)
    const logs = (): string[] => wb.jobs.logs(job.id, 0, 5000).map((l) => l.text)
    await waitFor(() => steps().length > 0, SLOW, 'a first step over ssh')
    await wb.call('jobs.pause', { id: job.id })
    await waitFor(() => logs().includes(PAUSED_LOG_LINE), SLOW, 'the pause to take hold on both hosts')
    const pausedAt = wb.runs.checkpoints(run.id).at(-1)!
    expect(pausedAt.step).toBeLessThan(8)
    expect(fs.existsSync(path.join(pausedAt.path, 'optimizer.safetensors'))).toBe(true)
    expect(wb.jobs.get(job.id)!.state).toBe('paused')
    await waitFor(() => processesOf(run.dir).length === 0, 20_000, 'no process of the paused run left on any host')
    expect(steps().at(-1)).toBe(pausedAt.step)
    await wb.call('jobs.resume', { id: job.id })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state, `${ended.error}\n${logs().join('\n')}`).toBe('done')
    expect(logs().some((l) => l.startsWith(`Resuming from ${pausedAt.path}`))).toBe(true)
    expect(steps()).toEqual(Array.from({ length: 8 }, (_, i) => i + 1))
    console.log(`ssh: paused at step ${pausedAt.step} on 2 nodes, resumed to 8`)
  })
})
