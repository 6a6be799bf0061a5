// Compute devices as discovered by main: GPUs through nvidia-smi where present, the CPU always.
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
}

export type Device = GpuDevice | CpuDevice

export interface DeviceReport {
  devices: Device[]
  /** Why no GPU was found, when none was: shown in the device panel. */
  gpuNote: string | null
}
