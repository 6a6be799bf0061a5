// Whether a config's memory estimate fits the picked devices: the Estimates card marks it, and
// the Train button stays disabled (with the reason) unless the user overrides the check.
import type { Device } from '../../../../shared/devices'
import type { TrainConfig } from '../../../../shared/config/train'
import { formatBytes } from './costs'

/** The smallest memory among the picked devices (CPU workers share the machine's memory). */
export function deviceMemoryOf(config: TrainConfig | null, devices: Device[]): number | null {
  if (!config) return null
  let least: number | null = null
  const cpuWorkers = config.devices.filter((d) => d.startsWith('cpu')).length
  for (const id of config.devices) {
    const found = id.startsWith('gpu') ? devices.find((d) => d.id === id) : devices.find((d) => d.kind === 'cpu')
    if (!found) continue
    const bytes = (found.memoryTotalMiB * 2 ** 20) / (found.kind === 'cpu' ? cpuWorkers : 1)
    least = least === null ? bytes : Math.min(least, bytes)
  }
  return least
}

/** Why Train is held back for memory, or null when the estimate fits (or cannot be compared). */
export function memoryBlocker(needBytes: number | null, haveBytes: number | null): string | null {
  if (needBytes === null || haveBytes === null || needBytes <= haveBytes) return null
  return `The estimate, ${formatBytes(needBytes)} per device, is more than the ${formatBytes(haveBytes)} the device has: lower the batch or context, add micro-batches or devices, or tick "Start anyway".`
}
