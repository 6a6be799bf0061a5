// Device discovery: GPUs through nvidia-smi where it exists, the CPU always, and the PyTorch
// engine's view through its interpreter (a probe cached per interpreter, refreshed on request).
import { execFile } from 'node:child_process'
import os from 'node:os'
import type { CpuDevice, DeviceReport, GpuDevice } from '../../shared/devices'
import { cpuPeakHere } from '../../core/engine/device-peak'
import { pytorchReport } from '../../core/engine/pytorch/probe'

const NVIDIA_QUERY = ['--query-gpu=index,name,memory.total,memory.used', '--format=csv,noheader,nounits']

/** Parses `nvidia-smi --query-gpu=index,name,memory.total,memory.used --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(output: string): GpuDevice[] {
  const gpus: GpuDevice[] = []
  for (const line of output.split('\n')) {
    const fields = line.split(',').map((f) => f.trim())
    if (fields.length < 4) continue
    const [index, name, total, used] = [Number(fields[0]), fields[1], Number(fields[2]), Number(fields[3])]
    if (!Number.isInteger(index) || !name || !Number.isFinite(total)) continue
    gpus.push({ kind: 'gpu', id: `gpu:${index}`, index, name, memoryTotalMiB: total, memoryUsedMiB: Number.isFinite(used) ? used : 0 })
  }
  return gpus
}

export function cpuDevice(): CpuDevice {
  const cpus = os.cpus()
  return {
    kind: 'cpu',
    id: 'cpu',
    model: cpus[0]?.model.trim() ?? 'unknown CPU',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryTotalMiB: Math.round(os.totalmem() / 2 ** 20),
    peak: cpuPeakHere()
  }
}

export interface DiscoverOptions {
  /** The PyTorch interpreter to probe (else GPTW_PYTHON, else python3 on PATH). */
  python?: string
  /** Probe the interpreter again instead of answering from the cache. */
  refresh?: boolean
  nvidiaSmi?: string
  timeoutMs?: number
}

export async function discoverDevices(options: DiscoverOptions = {}): Promise<DeviceReport> {
  const [ladder, pytorch] = await Promise.all([discoverLadder(options.nvidiaSmi, options.timeoutMs), pytorchReport(options.python, { refresh: options.refresh })])
  return { ...ladder, pytorch }
}

function discoverLadder(nvidiaSmi = 'nvidia-smi', timeoutMs = 5000): Promise<Omit<DeviceReport, 'pytorch'>> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, NVIDIA_QUERY, { timeout: timeoutMs }, (err, stdout) => {
      const cpu = cpuDevice()
      if (err) {
        const missing = (err as NodeJS.ErrnoException).code === 'ENOENT'
        resolve({ devices: [cpu], gpuNote: missing ? 'No NVIDIA GPU found (nvidia-smi is not installed); training runs on the CPU.' : `nvidia-smi failed: ${err.message.split('\n')[0]}` })
        return
      }
      const gpus = parseNvidiaSmi(stdout)
      resolve({ devices: [...gpus, cpu], gpuNote: gpus.length ? null : 'nvidia-smi lists no GPU; training runs on the CPU.' })
    })
  })
}
