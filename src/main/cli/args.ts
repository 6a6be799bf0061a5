// Small helpers for parsing CLI flags with node:util's parseArgs and clear messages.
import { DeviceId } from '../../shared/config/train'

export class UsageError extends Error {}

export function intFlag(value: string | undefined, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}".`)
  return n
}

export function numberFlag(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isFinite(n) || n < min || n > max) throw new UsageError(`--${name} must be a number from ${min} to ${max}, got "${value}".`)
  return n
}

/** A device list such as cpu:0 or gpu:0,gpu:1 (the PyTorch engine's model servers, one per entry). */
export function devicesFlag(value: string, name = 'devices'): string[] {
  const devices = value.split(',').map((d) => d.trim())
  const bad = devices.find((d) => !DeviceId.safeParse(d).success)
  if (bad !== undefined || new Set(devices).size !== devices.length) throw new UsageError(`--${name} is a list such as cpu:0 or gpu:0,gpu:1 (each once), not ${value}.`)
  return devices
}
