// The numbers the Train view shows beside the editor, from the shared estimate formulas.
import { type MeasuredRun, type MemoryEstimate, type StepTimeEstimate, estimateStepTime, flopsPerToken, memoryPerDevice, pickReference } from '../../../../shared/config/estimates'
import { parameterCount } from '../../../../shared/config/model'
import type { TrainConfig } from '../../../../shared/config/train'
import type { DeviceReport } from '../../../../shared/devices'
import type { DevicePeak } from '../../../../shared/throughput'

export interface EstimatedCosts {
  params: number
  tokensPerStep: number
  tokensPerDevice: number
  flopsPerStep: number
  memory: MemoryEstimate
  step: StepTimeEstimate
  totalSeconds: number
}

/** The CPU's probed peak from the host's device report (null until it has come, or from an older host). */
export function cpuPeakOf(report: DeviceReport | null): DevicePeak | null {
  const cpu = report?.devices.find((d) => d.kind === 'cpu')
  return cpu?.kind === 'cpu' ? (cpu.peak ?? null) : null
}

export function costsOf(config: TrainConfig | null, measured: MeasuredRun[], cpuPeak: DevicePeak | null = null): EstimatedCosts | null {
  if (!config) return null
  const tokensPerStep = config.batchSize * config.model.nCtx
  const step = estimateStepTime(config, pickReference(config, measured), cpuPeak)
  return {
    params: parameterCount(config.model),
    tokensPerStep,
    tokensPerDevice: tokensPerStep / config.devices.length,
    flopsPerStep: tokensPerStep * flopsPerToken(config.model),
    memory: memoryPerDevice(config),
    step,
    totalSeconds: step.seconds * config.steps
  }
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`
  return String(Math.round(n))
}

export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MiB`
  return `${(bytes / 1024).toFixed(0)} KiB`
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '–'
  if (seconds < 1) return `${(seconds * 1000).toFixed(0)} ms`
  if (seconds < 90) return `${seconds.toFixed(1)} s`
  if (seconds < 5400) return `${(seconds / 60).toFixed(1)} min`
  if (seconds < 86400 * 2) return `${(seconds / 3600).toFixed(1)} h`
  return `${(seconds / 86400).toFixed(1)} days`
}
