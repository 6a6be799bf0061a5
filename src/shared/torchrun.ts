// The PyTorch engine's local launch line, pure (no Node): the train worker runs it, `gptw train
// --dry-run` prints it and the Train view shows it before launch. One process per device: all
// GPUs (CUDA_VISIBLE_DEVICES) or all CPU processes (gloo).

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
}

/** One process per device: all GPUs (CUDA_VISIBLE_DEVICES) or all CPU processes (gloo); a mix is refused. */
export function deviceLayout(devices: readonly string[]): { deviceType: 'cpu' | 'cuda'; processes: number; visible?: string } {
  const gpus = devices.filter((d) => d.startsWith('gpu:'))
  if (gpus.length && gpus.length !== devices.length) throw new Error(`The PyTorch engine runs one kind of device per run: ${devices.join(', ')} mixes GPUs and CPU processes.`)
  if (gpus.length) return { deviceType: 'cuda', processes: gpus.length, visible: gpus.map((d) => d.slice(4)).join(',') }
  return { deviceType: 'cpu', processes: devices.length }
}

/** The local launcher: `python -m torch.distributed.run --standalone --nproc_per_node N -m gptw_torch train ...`. */
export function torchrunLaunch(input: TorchrunInput): TorchLaunch {
  const layout = deviceLayout(input.devices)
  // torch 1.13's launcher on Python 3.11 cannot parse its own default "--redirects 0 --tee 0"; sending the ranks' stderr to its log folder and teeing it back works on every version.
  const args = ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(layout.processes), '--redirects', '2', '--tee', '2']
  args.push('-m', 'gptw_torch', 'train', '--config', input.configFile, '--dataset', input.datasetDir, '--out', input.runDir, '--device', layout.deviceType)
  if (input.resumeDir) args.push('--resume', input.resumeDir)
  else if (input.initDir) args.push('--init', input.initDir)
  const env: Record<string, string> = { PYTHONPATH: input.packageDir, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' }
  if (layout.visible !== undefined) env.CUDA_VISIBLE_DEVICES = layout.visible
  return { python: input.python, args, env, cwd: input.packageDir, processes: layout.processes, deviceType: layout.deviceType }
}

/** The launch as one shell line. */
export function commandLine(launch: TorchLaunch): string {
  const quote = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)
  const env = Object.entries(launch.env).map(([k, v]) => `${k}=${quote(v)}`)
  return [...env, quote(launch.python), ...launch.args.map(quote)].join(' ')
}
