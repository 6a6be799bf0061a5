// The SSH launcher's checks: before a multi-machine run starts, each host must answer over ssh with
// a Python that imports torch and the gptw_torch package, and see the dataset folder; a host that
// does not fails the job naming it and what is missing. The launch itself is shared/torchrun.ts's
// sshLaunch (one ssh session per host, run by launch.ts like the local torchrun).
import { spawn } from 'node:child_process'
import type { SshHost } from '../../../shared/config/train'
import { quote, sshArgs } from '../../../shared/torchrun'

export interface SshCheckInput {
  hosts: readonly SshHost[]
  sshOptions: readonly string[]
  python: string
  packageDir: string
  datasetDir: string
  timeoutMs?: number
}

/** What one host reported: its torch version, or why it cannot run the engine. */
export interface SshHostCheck {
  host: string
  ok: boolean
  torch?: string
  problem?: string
}

/** The command each host runs: the interpreter imports torch and gptw_torch, and the dataset's train.bin is there. */
export function hostCheckCommand(python: string, packageDir: string, datasetDir: string): string {
  const script = 'import torch, gptw_torch; print("torch", torch.__version__)'
  return `PYTHONPATH=${quote(packageDir)} ${quote(python)} -c ${quote(script)} && { test -f ${quote(`${datasetDir}/train.bin`)} || { echo "the dataset ${datasetDir} (train.bin) is not there" >&2; exit 3; }; }`
}

/** Checks every host at once over ssh. */
export async function checkSshHosts(input: SshCheckInput): Promise<SshHostCheck[]> {
  const command = hostCheckCommand(input.python, input.packageDir, input.datasetDir)
  return Promise.all(input.hosts.map((h) => checkHost(h.host, [...sshArgs(input.sshOptions), '-o', 'ConnectTimeout=15', h.host, command], input.timeoutMs ?? 60_000)))
}

function checkHost(host: string, args: string[], timeoutMs: number): Promise<SshHostCheck> {
  return new Promise((resolve) => {
    const child = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ host, ok: false, problem: `ssh could not be started (${e.message})` })
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const torch = /^torch (\S+)/m.exec(out)?.[1]
      if (code === 0 && torch) return resolve({ host, ok: true, torch })
      const last = err.trim().split('\n').at(-1) ?? ''
      const why = signal ? `no answer within ${Math.round(timeoutMs / 1000)} s` : code === 255 ? `ssh failed: ${last}` : code === 3 ? last : `its Python cannot import torch and gptw_torch: ${last}`
      resolve({ host, ok: false, problem: why })
    })
  })
}

/** Throws naming every host that cannot run the engine. */
export async function requireSshHosts(input: SshCheckInput, log: (text: string) => void): Promise<void> {
  const checks = await checkSshHosts(input)
  for (const c of checks) if (c.ok) log(`Host ${c.host}: torch ${c.torch}, dataset found.`)
  const bad = checks.filter((c) => !c.ok)
  if (bad.length) throw new Error(`The SSH launcher cannot start: ${bad.map((c) => `${c.host}: ${c.problem}`).join('; ')}.`)
}
