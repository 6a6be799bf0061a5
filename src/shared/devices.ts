// Compute devices as discovered by main: GPUs through nvidia-smi where present, the CPU always,
// and what the PyTorch engine's interpreter sees (torch, CUDA / NCCL, its GPUs).
import type { DevicePeak } from './throughput'
export interface GpuDevice {
  kind: 'gpu'
  /** "gpu:0" */
  id: string
  index: number
  name: string
  memoryTotalMiB: number
  memoryUsedMiB: number
}

export interface CpuDevice {
  kind: 'cpu'
  id: 'cpu'
  model: string
  cores: number
  memoryTotalMiB: number
  /** Its fp32 peak from cpuinfo (cores x SIMD lanes x FMA x clock), with the arithmetic: the Train view's time estimate starts from it. */
  peak?: DevicePeak
}

export type Device = GpuDevice | CpuDevice

export interface DeviceReport {
  devices: Device[]
  /** Why no GPU was found, when none was: shown in the device panel. */
  gpuNote: string | null
  /** The PyTorch engine's view: interpreter, torch, CUDA / NCCL, GPUs. */
  pytorch: PytorchReport
}

/** A GPU as torch sees it (CUDA_VISIBLE_DEVICES applies). */
export interface TorchGpu {
  index: number
  name: string
  memoryTotalMiB: number
}

/** Where the PyTorch engine's interpreter came from: the config's `python` key, GPTW_PYTHON, or python3 on PATH. */
export type PythonSource = 'setting' | 'GPTW_PYTHON' | 'PATH'

/** What the PyTorch engine sees through one interpreter: a short probe, cached per interpreter until refreshed. */
export interface PytorchReport {
  /** The interpreter as asked for (a path or a command name). */
  python: string
  source: PythonSource
  /** True when torch and numpy import: the PyTorch engine can run. */
  usable: boolean
  /** Why it cannot run, for people (names GPTW_PYTHON); null when usable. */
  problem: string | null
  /** sys.executable and platform.python_version(), when the interpreter ran. */
  executable: string | null
  pythonVersion: string | null
  torch: string | null
  /** torch.version.cuda: the CUDA torch was built for (null for a CPU build). */
  cuda: string | null
  cudaAvailable: boolean
  /** NCCL's version when torch has it and CUDA is available. */
  nccl: string | null
  /** gloo: data parallel between CPU processes. */
  gloo: boolean
  gpus: TorchGpu[]
  /** When the probe ran (ms since the epoch). */
  probedAt: number
}
