// The PyTorch launcher's settings as the Train view edits them: an SSH hosts list as text, one
// machine per line ("HOST GPUS WORKDIR", as people keep hostfiles), and back; and the launch a
// config would make, shown before it starts (the torchrun line per host, or the sbatch script).
import type { LauncherConfig, SshHost } from './config/train'
import { commandLine, nodeLaunch, slurmScript, slurmSettings, torchrunLaunch } from './torchrun'

export interface ParsedHosts {
  hosts: SshHost[]
  /** One message per line that could not be read, naming the line. */
  errors: string[]
}

/** "gpu1.lab 8 /scratch/gptw" per line; # starts a comment; GPUS may be left out (0: one CPU process). */
export function parseHostsText(text: string): ParsedHosts {
  const hosts: SshHost[] = []
  const errors: string[] = []
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim()
    if (!line) return
    const words = line.split(/\s+/)
    const [host, second, third] = words
    const gpusGiven = words.length === 3
    const workDir = gpusGiven ? third : second
    if (words.length > 3 || !workDir) {
      errors.push(`line ${i + 1} ("${raw.trim()}"): write HOST GPUS WORKDIR, e.g. gpu1.lab 8 /scratch/gptw`)
      return
    }
    const gpus = gpusGiven ? Number(second) : 0
    if (!Number.isInteger(gpus) || gpus < 0 || gpus > 64) {
      errors.push(`line ${i + 1}: GPUS must be a whole number from 0 to 64, got "${second}"`)
      return
    }
    if (!workDir.startsWith('/') && !workDir.startsWith('~')) {
      errors.push(`line ${i + 1}: WORKDIR must be an absolute folder on ${host}, got "${workDir}"`)
      return
    }
    hosts.push({ host, gpus, workDir })
  })
  return { hosts, errors }
}

export function hostsText(hosts: readonly SshHost[]): string {
  return hosts.map((h) => `${h.host} ${h.gpus} ${h.workDir}`).join('\n')
}

export interface LaunchPreviewInput {
  launcher: LauncherConfig
  devices: readonly string[]
  python: string
  datasetDir: string
  initDir?: string
}

/** What the launcher would run, with RUN_DIR and APP standing for the run's folder and the app's: one block per host, or the script. */
export function launchPreview(input: LaunchPreviewInput): string {
  const common = { python: input.python, configFile: 'RUN_DIR/pytorch-config.json', datasetDir: input.datasetDir, runDir: 'RUN_DIR', packageDir: 'APP/python', initDir: input.initDir }
  const l = input.launcher
  if (l.kind === 'local') return commandLine(torchrunLaunch({ ...common, devices: input.devices }))
  if (l.kind === 'slurm') {
    return slurmScript({ ...common, ...slurmSettings(l), logFile: 'RUN_DIR/slurm-%j.log' })
  }
  const endpoint = `${l.hosts[0].host.replace(/^.*@/, '')}:${l.rdzvPort}`
  return l.hosts
    .map((h, rank) => `# on ${h.host} (node ${rank} of ${l.hosts.length}), in ${h.workDir}\n${commandLine(nodeLaunch({ ...common, nnodes: l.hosts.length, nodeRank: rank, endpoint, gpus: h.gpus }))}`)
    .join('\n\n')
}
