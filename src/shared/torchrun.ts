// The PyTorch engine's local launch line, pure (no Node): the train worker runs it, `gptw train
// --dry-run` prints it and the Train view shows it before launch. One process per device: all
// GPUs (CUDA_VISIBLE_DEVICES) or all CPU processes (gloo).
import type { LauncherConfig } from './config/train'

/** The command the job runs: the interpreter, its arguments and the environment it adds. */
export interface TorchLaunch {
  python: string
  args: string[]
  env: Record<string, string>
  cwd: string
  processes: number
  deviceType: 'cpu' | 'cuda'
}

export interface TorchrunInput {
  devices: readonly string[]
  python: string
  configFile: string
  datasetDir: string
  runDir: string
  /** The folder holding the gptw_torch package (PYTHONPATH). */
  packageDir: string
  resumeDir?: string
  initDir?: string
  /** A file whose appearance asks the ranks to pause (train --pause-file): for launchers that cannot signal the ranks reliably (Slurm). */
  pauseFile?: string
}

/** One process per device: all GPUs (CUDA_VISIBLE_DEVICES) or all CPU processes (gloo); a mix is refused. */
export function deviceLayout(devices: readonly string[]): { deviceType: 'cpu' | 'cuda'; processes: number; visible?: string } {
  const gpus = devices.filter((d) => d.startsWith('gpu:'))
  if (gpus.length && gpus.length !== devices.length) throw new Error(`The PyTorch engine runs one kind of device per run: ${devices.join(', ')} mixes GPUs and CPU processes.`)
  if (gpus.length) return { deviceType: 'cuda', processes: gpus.length, visible: gpus.map((d) => d.slice(4)).join(',') }
  return { deviceType: 'cpu', processes: devices.length }
}

/** `-m gptw_torch train ...`: the trainer's arguments, the same on every launcher. */
export function trainArgs(input: Pick<TorchrunInput, 'configFile' | 'datasetDir' | 'runDir' | 'resumeDir' | 'initDir' | 'pauseFile'>, deviceType: 'cpu' | 'cuda'): string[] {
  const args = ['-m', 'gptw_torch', 'train', '--config', input.configFile, '--dataset', input.datasetDir, '--out', input.runDir, '--device', deviceType]
  if (input.resumeDir) args.push('--resume', input.resumeDir)
  else if (input.initDir) args.push('--init', input.initDir)
  if (input.pauseFile) args.push('--pause-file', input.pauseFile)
  return args
}

/**
 * The file a Slurm run's rank 0 looks for after every step: there, the ranks pause (checkpoint,
 * exit 0) as on a SIGTERM. A file in the run folder (which the app and the nodes share: the app
 * follows the job's log there) cannot be lost as a signal can: one sent while the job runs its
 * prolog or while torchrun starts reaches nobody who acts on it.
 */
export function slurmPauseFile(runDir: string): string {
  return `${runDir.replace(/[\\/]+$/, '')}/pause-request`
}

// torch 1.13's launcher on Python 3.11 cannot parse its own default "--redirects 0 --tee 0"; sending the ranks' stderr to its log folder and teeing it back works on every version.
const REDIRECTS = ['--redirects', '2', '--tee', '2']

/**
 * One machine's own rendezvous, on a port the system picks: what torch >= 2 makes of --standalone.
 * torch 1.13's --standalone takes the fixed port 29400, so a second run on the machine joins the
 * first one's store as a client and fails (its ranks stopped) when that run ends.
 */
export const LOCAL_RENDEZVOUS = ['--nnodes', '1', '--rdzv_backend', 'c10d', '--rdzv_endpoint', '127.0.0.1:0', '--rdzv_id', 'gptw-local']

/**
 * Where a local torchrun keeps each rank's stderr (LOG_DIR/<id>/attempt_0/<rank>/stderr.log) and a
 * failed rank's error.json: in the run folder, so what the ranks said outlives the app's worker
 * (killed, its pipes gone) and can be read after a crash.
 */
export function torchrunLogDir(runDir: string): string {
  return `${runDir.replace(/[\\/]+$/, '')}/torchrun-logs`
}

/** The local launcher: `python -m torch.distributed.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 ... --nproc_per_node N -m gptw_torch train ...`. */
export function torchrunLaunch(input: TorchrunInput): TorchLaunch {
  const layout = deviceLayout(input.devices)
  const args = [
    '-m',
    'torch.distributed.run',
    ...LOCAL_RENDEZVOUS,
    '--nproc_per_node',
    String(layout.processes),
    ...REDIRECTS,
    '--log_dir',
    torchrunLogDir(input.runDir),
    ...trainArgs(input, layout.deviceType)
  ]
  const env: Record<string, string> = { PYTHONPATH: input.packageDir, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }
  if (layout.visible !== undefined) env.CUDA_VISIBLE_DEVICES = layout.visible
  return { python: input.python, args, env, cwd: input.packageDir, processes: layout.processes, deviceType: layout.deviceType }
}

/** One machine of a multi-node launch: its torchrun joins a static rendezvous at the first host, so node rank 0 (and global rank 0) runs there. */
export interface NodeInput extends Omit<TorchrunInput, 'devices'> {
  nnodes: number
  nodeRank: number
  /** host:port of the first node. */
  endpoint: string
  /** GPUs on this node (0: one CPU process per `cpuProcesses`). */
  gpus: number
  cpuProcesses?: number
}

/** `python -m torch.distributed.run --nnodes N --node_rank R --rdzv_backend static --rdzv_endpoint HEAD:PORT ...` for one SSH host. */
export function nodeLaunch(input: NodeInput): TorchLaunch {
  const deviceType = input.gpus > 0 ? 'cuda' : 'cpu'
  const processes = input.gpus > 0 ? input.gpus : (input.cpuProcesses ?? 1)
  // Underscored flags: torch 1.13 knows only these; 2.x takes both spellings.
  const args = ['-m', 'torch.distributed.run', '--nnodes', String(input.nnodes), '--node_rank', String(input.nodeRank), '--nproc_per_node', String(processes)]
  args.push('--rdzv_backend', 'static', '--rdzv_endpoint', input.endpoint, '--max_restarts', '0', ...REDIRECTS, ...trainArgs(input, deviceType))
  const env: Record<string, string> = { PYTHONPATH: input.packageDir, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }
  return { python: input.python, args, env, cwd: input.packageDir, processes, deviceType }
}

export interface SlurmInput extends Omit<TorchrunInput, 'devices'> {
  nodes: number
  gpusPerNode: number
  time: string
  partition?: string
  account?: string
  cpuProcesses?: number
  jobName?: string
  /** The job's log file (sbatch --output; %j is the job id). */
  logFile: string
  port?: number
}

/** A Slurm launcher's settings as slurmScript takes them. */
export function slurmSettings(l: Extract<LauncherConfig, { kind: 'slurm' }>): Pick<SlurmInput, 'nodes' | 'gpusPerNode' | 'time' | 'partition' | 'account' | 'cpuProcesses' | 'port'> {
  return { nodes: l.nodes, gpusPerNode: l.gpusPerNode, time: l.time, partition: l.partition, account: l.account, cpuProcesses: l.cpuProcesses, port: l.rdzvPort }
}

/** The sbatch script: one srun task per node, each a torchrun joining a c10d rendezvous at the job's first node. */
export function slurmScript(input: SlurmInput): string {
  const q = quote
  const deviceType = input.gpusPerNode > 0 ? 'cuda' : 'cpu'
  const processes = input.gpusPerNode > 0 ? input.gpusPerNode : (input.cpuProcesses ?? 1)
  const head = [
    '#!/bin/bash',
    `#SBATCH --job-name=${input.jobName ?? 'gptw-train'}`,
    `#SBATCH --nodes=${input.nodes}`,
    '#SBATCH --ntasks-per-node=1',
    ...(input.gpusPerNode > 0 ? [`#SBATCH --gpus-per-node=${input.gpusPerNode}`] : [`#SBATCH --cpus-per-task=${processes}`]),
    `#SBATCH --time=${input.time}`,
    ...(input.partition ? [`#SBATCH --partition=${input.partition}`] : []),
    ...(input.account ? [`#SBATCH --account=${input.account}`] : []),
    `#SBATCH --output=${input.logFile}`,
    '#SBATCH --signal=B:TERM@60',
    '# Written by GPT Workbench: the PyTorch engine under torchrun, one launcher per node (srun), meeting at the first node (the rendezvous picks which node holds rank 0).',
    'set -euo pipefail',
    'head_node=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
    "# The first node's address as Slurm reaches it (NodeAddr), which need not be its name; the name where Slurm does not say.",
    `head_addr=$(scontrol show node "$head_node" 2>/dev/null | sed -n 's/.*NodeAddr=\\([^ ]*\\).*/\\1/p' | head -n 1 || true)`,
    'head_addr=${head_addr:-$head_node}',
    `export PYTHONPATH=${q(input.packageDir)} PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1`,
    `cd ${q(input.packageDir)}`
  ]
  const torchrun = [q(input.python), '-m', 'torch.distributed.run', '--nnodes', '"$SLURM_NNODES"', '--nproc_per_node', String(processes)]
  torchrun.push('--rdzv_backend', 'c10d', '--rdzv_endpoint', `"$head_addr:${input.port ?? 29500}"`, '--rdzv_id', '"$SLURM_JOB_ID"', '--max_restarts', '0', ...REDIRECTS)
  const pauseFile = slurmPauseFile(input.runDir)
  torchrun.push(...trainArgs({ ...input, pauseFile }, deviceType).map(q))
  // The log file as the job sees it: sbatch's %j is the job id.
  const logFile = input.logFile
    .split('%j')
    .map((part) => (part ? q(part) : ''))
    .join('"$SLURM_JOB_ID"')
  // srun in the background and wait: bash runs the TERM trap (the time limit's, --signal=B:TERM@60) at once; it asks the ranks to pause through the pause file, as the app's Pause does.
  return [
    ...head,
    `srun --kill-on-bad-exit=1 ${torchrun.join(' ')} &`,
    'step=$!',
    `trap ${q(`touch ${q(pauseFile)}`)} TERM`,
    'set +e',
    'wait "$step"; rc=$?',
    '# A trap ends the first wait early: wait for srun itself.',
    'while kill -0 "$step" 2>/dev/null; do wait "$step"; rc=$?; done',
    '# A pause is no failure: torchrun exits 1 after any signal, but rank 0 said it saved its checkpoint and stopped.',
    `log=${logFile}`,
    'if [ "$rc" != 0 ] && grep -q \'^{"type": "paused"\' "$log" 2>/dev/null; then rc=0; fi',
    'exit $rc',
    ''
  ].join('\n')
}

export interface SshInput extends Omit<TorchrunInput, 'devices'> {
  hosts: readonly { host: string; gpus: number; workDir: string }[]
  rdzvPort: number
  sshOptions: readonly string[]
}

/** ssh's arguments for a host: no prompts (BatchMode), a host key accepted on first use, then the config's own options. */
export function sshArgs(options: readonly string[]): string[] {
  return ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', ...options]
}

/** Where node R keeps the pid of its torchrun (a session and process-group leader under sshd), for pause and cancel. */
export function sshPidFile(workDir: string, runDir: string, nodeRank: number): string {
  const tag = runDir.replace(/[^\w.-]+/g, '_').slice(-80)
  return `${workDir.replace(/\/$/, '')}/.gptw-${tag}-node${nodeRank}.pid`
}

/**
 * The SSH launcher as one local bash script: one ssh session per host, each running that node's torchrun (static
 * rendezvous at the first host, so global rank 0 is there and its stdout/stderr are this script's). The remote shell
 * writes its pid (= its process group, sshd made it a session leader) and execs torchrun. SIGTERM to this script
 * (pause) is passed to every node's torchrun, which checkpoints; a second one (cancel) kills every node's group.
 */
export function sshLaunch(input: SshInput): TorchLaunch {
  const n = input.hosts.length
  const endpoint = `${input.hosts[0].host.replace(/^.*@/, '')}:${input.rdzvPort}`
  const ssh = (host: string): string => ['ssh', ...sshArgs(input.sshOptions), host].map(quote).join(' ')
  const lines = ['set -u', 'pids=()', 'signalled=0']
  const stop: string[] = []
  input.hosts.forEach((h, rank) => {
    const node = nodeLaunch({ ...input, nnodes: n, nodeRank: rank, endpoint, gpus: h.gpus })
    const pidFile = sshPidFile(h.workDir, input.runDir, rank)
    const remote = `mkdir -p ${quote(h.workDir)} && cd ${quote(h.workDir)} && echo $$ > ${quote(pidFile)} && exec env ${Object.entries(node.env)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ')} ${[node.python, ...node.args].map(quote).join(' ')}`
    // Node 0's output is rank 0's (the step lines); the others' goes to stderr, the job log.
    lines.push(`${ssh(h.host)} ${quote(remote)} ${rank === 0 ? '' : '1>&2 '}< /dev/null &`, 'pids+=($!)')
    // $1: TERM or KILL; $2: '' (torchrun alone) or - (its whole process group). Expanded here, run there.
    stop.push(`${ssh(h.host)} "p=\\$(cat ${quote(pidFile)} 2>/dev/null) && kill -$1 $2\\$p 2>/dev/null; true" < /dev/null & k+=($!)`)
  })
  lines.unshift(['stop() {', '  local k=()', ...stop.map((s) => `  ${s}`), '  wait "${k[@]}"', '}'].join('\n'))
  // Pause signals the script alone: torchrun checkpoints and stops its ranks. Cancel signals the whole local group, so the
  // ssh sessions are gone too: every remote group gets TERM (the ranks stop at once), a later signal KILL.
  lines.push(
    'on_term() {',
    '  signalled=$((signalled + 1))',
    '  sleep 0.2',
    '  local gone=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || gone=1; done',
    '  if [ "$signalled" -gt 1 ]; then stop KILL -; elif [ "$gone" = 1 ]; then stop TERM -; else stop TERM \'\'; fi',
    '}',
    'trap on_term TERM INT'
  )
  // wait returns early when a trap runs: wait again until every session has ended.
  lines.push('status=0', 'for p in "${pids[@]}"; do', '  while :; do wait "$p"; s=$?; kill -0 "$p" 2>/dev/null || break; done', '  [ "$s" = 0 ] || status=$s', 'done', 'exit $status')
  const first = nodeLaunch({ ...input, nnodes: n, nodeRank: 0, endpoint, gpus: input.hosts[0].gpus })
  const processes = input.hosts.reduce((sum, h) => sum + Math.max(1, h.gpus), 0)
  return { python: 'bash', args: ['-c', lines.join('\n')], env: {}, cwd: input.packageDir, processes, deviceType: first.deviceType }
}

/** The launch as one shell line. */
export function commandLine(launch: TorchLaunch): string {
  const env = Object.entries(launch.env).map(([k, v]) => `${k}=${quote(v)}`)
  return [...env, quote(launch.python), ...launch.args.map(quote)].join(' ')
}

/** A word for sh: bare when safe, else single-quoted. */
export function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}
