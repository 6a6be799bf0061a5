// A throwaway Slurm for a test file, the way ssh.test.ts starts its own sshd: Debian's slurmctld
// and slurmd (slurm-wlm 22.05) on free ports of 127.0.0.1, with their config, state, spool, pid
// and log files in a temp folder. One node is "localhost" (slurmd -N), sized by `slurmd -C` so the
// controller does not drain it. Several nodes are node1, node2, ...: one slurmd each on this
// machine, told apart by their own port (slurm.conf's per-node Port, which this build honours
// without --enable-multiple-slurmd) and their own spool, pid and log files (%n); every node has
// this machine's CPUs and memory. No munge: auth/none and cred/none (still in
// 22.05), so nothing runs but the two daemons. No systemd or cgroups here either: processes are
// tracked by proctrack/linuxproc, tasks bound by nothing (task/none). No accounting daemon, so
// sacct answers "Slurm accounting storage is disabled" (exit 1): the launcher asks scontrol for an
// ended job's state. Clients find this cluster through SLURM_CONF (env below); clear() cancels
// what is left in the queue and waits for it to leave; stop() clears, then ends both daemons. Root is not needed: both
// daemons run as the current user (SlurmUser, SlurmdUser), and jobs run as that user (tried here as
// nobody by hand: srun and sbatch ran).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, afterEach, beforeAll } from 'vitest'
import { tempDir, waitFor } from '../helpers'
import { freePort } from './helpers'

export const SLURMCTLD = '/usr/sbin/slurmctld'
export const SLURMD = '/usr/sbin/slurmd'
const PLUGIN_DIRS = ['/usr/lib/x86_64-linux-gnu/slurm-wlm', '/usr/lib/aarch64-linux-gnu/slurm-wlm', '/usr/lib64/slurm', '/usr/lib/slurm']

/** Why a cluster cannot be started here, or null when it can. */
export const slurmProblem: string | null = (() => {
  for (const f of [SLURMCTLD, SLURMD]) if (!fs.existsSync(f)) return `${f} is missing`
  for (const c of ['sbatch', 'squeue', 'scancel', 'sinfo', 'scontrol']) if (spawnSync('sh', ['-c', `command -v ${c}`]).status !== 0) return `${c} is not on PATH`
  if (!PLUGIN_DIRS.some((d) => fs.existsSync(path.join(d, 'auth_none.so')))) return 'the auth/none plugin (auth_none.so) is missing: this Slurm is too new or too old for the test cluster'
  return null
})()

export interface SlurmCluster {
  dir: string
  /** The slurm.conf the clients must read (SLURM_CONF). */
  conf: string
  /** process.env plus SLURM_CONF. */
  env: NodeJS.ProcessEnv
  /** The node names, in order. */
  nodes: string[]
  /** A client command (squeue, scontrol, ...) against this cluster. */
  client(command: string, args: string[]): { status: number | null; stdout: string; stderr: string }
  /** The daemons' output so far, for a failing assertion's message. */
  logs(): string
  /** Cancels every job in the queue and waits until it is empty (a failed test's jobs must not hold the node for the next). */
  clear(): Promise<void>
  stop(): Promise<void>
}

/** This machine as slurmd sees it (`slurmd -C`: CPUs, boards, sockets, cores, threads, memory), as the node `name`. */
function nodeLine(name: string, port?: number): string {
  const r = spawnSync(SLURMD, ['-C'], { encoding: 'utf8', timeout: 30_000 })
  const line = r.stdout.split('\n').find((l) => l.startsWith('NodeName='))
  if (!line) throw new Error(`slurmd -C said nothing about this machine: ${r.stderr}`)
  const fields = line.split(/\s+/).filter((f) => f && !f.startsWith('NodeName=') && !f.startsWith('UpTime='))
  return [`NodeName=${name}`, 'NodeAddr=127.0.0.1', ...(port ? [`Port=${port}`] : []), ...fields, 'State=UNKNOWN'].join(' ')
}

async function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    child.once('exit', () => (clearTimeout(timer), resolve(true)))
  })
}

/**
 * Starts slurmctld and a slurmd per node and resolves once sinfo shows every node idle. prolog: a
 * shell script body slurmd runs before each job's batch script (the job is RUNNING meanwhile, with
 * no step yet). nodes: how many (1: "localhost"; more: node1, node2, ...).
 */
export async function startSlurmCluster(options: { prolog?: string; nodes?: number } = {}): Promise<SlurmCluster> {
  if (slurmProblem) throw new Error(`${slurmProblem}: install Debian's slurm-wlm (.ci/run does).`)
  const dir = tempDir('gptw-slurm-')
  const count = options.nodes ?? 1
  const names = count === 1 ? ['localhost'] : Array.from({ length: count }, (_, i) => `node${i + 1}`)
  const nodeLines: string[] = []
  for (const name of names) nodeLines.push(count === 1 ? nodeLine(name) : nodeLine(name, await freePort()))
  fs.mkdirSync(path.join(dir, 'state'))
  for (const name of names) fs.mkdirSync(path.join(dir, `spool-${name}`))
  const prolog = path.join(dir, 'prolog.sh')
  if (options.prolog !== undefined) fs.writeFileSync(prolog, `#!/bin/sh\n${options.prolog}\n`, { mode: 0o755 })
  const user = os.userInfo().username
  const conf = path.join(dir, 'slurm.conf')
  fs.writeFileSync(
    conf,
    [
      'ClusterName=gptwtest',
      'SlurmctldHost=localhost(127.0.0.1)',
      `SlurmctldPort=${await freePort()}`,
      `SlurmdPort=${await freePort()}`,
      'AuthType=auth/none',
      'CredType=cred/none',
      `SlurmUser=${user}`,
      `SlurmdUser=${user}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'MpiDefault=none',
      'SchedulerType=sched/builtin',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'ReturnToService=2',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      // Ended jobs stay visible to scontrol for this long (the launcher's failure message reads them).
      'MinJobAge=600',
      'MailProg=/bin/true',
      `StateSaveLocation=${dir}/state`,
      `SlurmdSpoolDir=${dir}/spool-%n`,
      `SlurmctldPidFile=${dir}/slurmctld.pid`,
      `SlurmdPidFile=${dir}/slurmd-%n.pid`,
      `SlurmctldLogFile=${dir}/slurmctld.log`,
      `SlurmdLogFile=${dir}/slurmd-%n.log`,
      ...(options.prolog !== undefined ? [`Prolog=${prolog}`] : []),
      ...nodeLines,
      `PartitionName=debug Nodes=${names.join(',')} Default=YES MaxTime=INFINITE State=UP`
    ].join('\n') + '\n'
  )
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf }
  let output = ''
  const daemon = (file: string, args: string[]): ChildProcess => {
    const child = spawn(file, ['-D', '-f', conf, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (b: Buffer): void => void (output = (output + b.toString()).slice(-8000))
    child.stdout!.on('data', keep)
    child.stderr!.on('data', keep)
    return child
  }
  const ctld = daemon(SLURMCTLD, [])
  const slurmds = names.map((name) => daemon(SLURMD, ['-N', name]))
  const client = (command: string, args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(command, args, { env, encoding: 'utf8', timeout: 30_000 })
    return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') }
  }
  const logs = (): string => {
    const file = (f: string): string => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), 'utf8').slice(-4000) : '')
    return [`${output}\n--- slurmctld.log\n${file('slurmctld.log')}`, ...names.map((n) => `--- slurmd-${n}.log\n${file(`slurmd-${n}.log`)}`)].join('\n')
  }
  // Slurm clients are processes: these probes ask every 200 ms, not at waitFor's default 20.
  const clear = async (): Promise<void> => {
    client('scancel', ['--user', user])
    await waitFor(() => !client('squeue', ['-h', '-o', '%i']).stdout.trim(), 30_000, `the test Slurm's queue to empty:\n${logs()}`, 200)
  }
  const stop = async (): Promise<void> => {
    try {
      await clear()
    } finally {
      for (const child of [...slurmds, ctld]) {
        child.kill('SIGTERM')
        if (!(await exited(child, 15_000))) child.kill('SIGKILL')
      }
    }
  }
  let state = ''
  try {
    await waitFor(
      () => {
        if ([ctld, ...slurmds].some((d) => d.exitCode !== null)) throw new Error('a daemon exited')
        state = client('sinfo', ['-h', '-N', '-o', '%t']).stdout.trim()
        const states = state.split('\n')
        return states.length === names.length && states.every((s) => /^(idle|mix)/.test(s))
      },
      60_000,
      'the test Slurm to come up',
      200
    )
  } catch (e) {
    await stop().catch(() => undefined)
    throw new Error(`The test Slurm did not come up (${(e as Error).message}; sinfo: "${state}"):\n${logs()}`, { cause: e })
  }
  return { dir, conf, env, nodes: names, client, logs, clear, stop }
}

/**
 * A cluster for the enclosing describe block: started before its tests (`options` is called then),
 * with this process's Slurm clients and the workers it forks pointed at it (SLURM_CONF: their
 * sbatch, squeue and scancel reach it), its queue emptied after each test (a failed test's jobs
 * must not keep the next test's job pending), stopped and SLURM_CONF restored after all. Returns
 * the running cluster.
 */
export function useSlurmCluster(options: () => { prolog?: string; nodes?: number } = () => ({})): () => SlurmCluster {
  let cluster: SlurmCluster | undefined
  const conf = process.env.SLURM_CONF
  beforeAll(async () => {
    cluster = await startSlurmCluster(options())
    process.env.SLURM_CONF = cluster.conf
  }, 120_000)
  afterEach(async () => {
    await cluster?.clear()
  }, 60_000)
  afterAll(async () => {
    if (conf === undefined) delete process.env.SLURM_CONF
    else process.env.SLURM_CONF = conf
    await cluster?.stop()
  }, 60_000)
  return () => {
    if (!cluster) throw new Error('The test Slurm is not running: its start failed (see the first error).')
    return cluster
  }
}
