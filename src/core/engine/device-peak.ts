// The peak a training run's MFU is measured against, found on this machine: the CPU's from
// /proc/cpuinfo and cpufreq (src/shared/throughput.ts does the arithmetic and says how), or, when
// asked, from a short GEMM on the native addon; a GPU's from the table by its name.
import fs from 'node:fs'
import os from 'node:os'
import { type DevicePeak, cpuFacts, cpuPeak, gpuPeak, measuredPeak } from '../../shared/throughput'
import { loadNative } from './native'

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

let cachedCpu: DevicePeak | null = null

/** This machine's CPU fp32 peak from its cpuinfo (all logical CPUs the process may use: the workers share them). */
export function cpuPeakHere(): DevicePeak {
  if (cachedCpu) return cachedCpu
  const cpuinfo = readText('/proc/cpuinfo') ?? ''
  const maxFreq = Number(readText('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq')?.trim())
  const facts = cpuFacts(cpuinfo, { maxFreqKHz: Number.isFinite(maxFreq) ? maxFreq : null, cores: os.availableParallelism() })
  if (!Number.isFinite(facts.ghz)) {
    // No cpuinfo clock (not Linux, or an ARM kernel that prints none): Node's own figure.
    facts.ghz = (os.cpus()[0]?.speed ?? 0) / 1000
    facts.clockSource = 'os.cpus() speed'
  }
  cachedCpu = cpuPeak(facts)
  return cachedCpu
}

/** The native addon's fp32 GEMM speed on `size`³ (best of `repeats`), or null without the addon. */
export function measuredCpuPeak(size = 512, repeats = 5): DevicePeak | null {
  const { kernels } = loadNative()
  if (!kernels) return null
  const a = new Float32Array(size * size).map((_, i) => ((i * 7919) % 1000) / 1000)
  const b = new Float32Array(size * size).map((_, i) => ((i * 104729) % 1000) / 1000)
  const c = new Float32Array(size * size)
  kernels.batchMatMul(false, false, 1, size, size, size, a, 0, b, 0, c)
  let best = Infinity
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint()
    kernels.batchMatMul(false, false, 1, size, size, size, a, 0, b, 0, c)
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9)
  }
  return measuredPeak(size, size, size, best, `native GEMM on ${kernels.info().threads} threads,`)
}

/**
 * The peak for a run on `devices` (cpu:N / gpu:N): CPU workers share one CPU, so its peak once;
 * GPUs add up, each from the table by `gpuName` (null when the part is unknown or not given).
 */
export function runPeak(devices: string[], gpuName?: string | null, precision: 'fp32' | 'bf16' = 'fp32'): DevicePeak | null {
  const gpus = devices.filter((d) => d.startsWith('gpu')).length
  if (!gpus) return cpuPeakHere()
  const one = gpuName ? gpuPeak(gpuName, precision) : null
  if (!one) return null
  return gpus === 1 ? one : { ...one, tflops: one.tflops * gpus, derivation: `${gpus} x (${one.derivation})` }
}
