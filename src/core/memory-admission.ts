// Memory admission: before a job allocates a model, its estimate (shared/config/estimates.ts) is
// compared with the memory the host has free, so a config past memory is refused in milliseconds
// with what to change, instead of allocating until the OS kills the process. Main checks before a
// job starts; the train worker checks again with its own view (an in-process CLI run included).
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type MemoryEstimate, inferenceMemory, memoryPerDevice } from '../shared/config/estimates'
import type { ModelConfig } from '../shared/config/model'
import type { TorchGpu } from '../shared/devices'
import type { TrainConfig } from '../shared/config/train'
import { CONFIG_FILE } from './engine/checkpoint'
import { fromGPT2Config } from './engine/hf-config'

/**
 * Testing and limiting knob: the available memory in MiB, used instead of /proc/meminfo. Set it
 * to test a refusal without a machine that small, or to keep jobs below a share of a shared host.
 */
export const MEMORY_AVAILABLE_ENV = 'GPTW_MEMORY_AVAILABLE_MB'

export interface AvailableMemory {
  bytes: number
  /** Where the figure comes from, for the message. */
  source: string
}

/** Host memory a new process can take: GPTW_MEMORY_AVAILABLE_MB, else MemAvailable from /proc/meminfo, else os.freemem(). */
export function availableHostMemory(env: NodeJS.ProcessEnv = process.env): AvailableMemory {
  const forced = env[MEMORY_AVAILABLE_ENV]
  if (forced !== undefined && forced !== '') {
    const mb = Number(forced)
    if (!Number.isFinite(mb) || mb < 0) throw new Error(`${MEMORY_AVAILABLE_ENV} is a number of MiB, not "${forced}".`)
    return { bytes: mb * 2 ** 20, source: MEMORY_AVAILABLE_ENV }
  }
  try {
    // MemAvailable counts reclaimable page cache; os.freemem() (MemFree) does not and would refuse too much.
    const match = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))
    if (match) return { bytes: Number(match[1]) * 1024, source: 'MemAvailable in /proc/meminfo' }
  } catch {
    // Not Linux: fall through.
  }
  return { bytes: os.freemem(), source: 'os.freemem()' }
}

/** GiB with two decimals below 1 GiB; past 1024 GiB the next unit up, so the largest shapes stay readable (1.5e8 EiB, not 1.7e11 GiB). */
function gib(bytes: number): string {
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`
  const units = ['GiB', 'TiB', 'PiB', 'EiB']
  let value = bytes / 2 ** 30
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value >= 1e6 ? value.toExponential(1) : value.toFixed(1)} ${units[unit]}`
}

function parts(e: MemoryEstimate): string {
  return `model state ${gib(e.state)}, activations ${gib(e.activations)}, logits ${gib(e.logits)}, engine ${gib(e.engine)}`
}

/**
 * Why `config` cannot train here, or null when it fits (or cannot be checked). CPU devices share
 * the host's memory: each CPU worker holds a full replica, so their estimates add up. GPU devices
 * are not checked here (their free memory is not known before the engine starts).
 */
export function trainMemoryProblem(config: TrainConfig, available: AvailableMemory = availableHostMemory()): string | null {
  if (config.memoryCheck === false) return null
  const cpus = config.devices.filter((d) => d.startsWith('cpu')).length
  if (cpus === 0) return null
  const perDevice = memoryPerDevice(config)
  const need = perDevice.total * cpus
  if (need <= available.bytes) return null
  const workers = cpus > 1 ? ` x ${cpus} CPU workers` : ''
  return (
    `This config needs about ${gib(need)} of memory (${gib(perDevice.total)} per device${workers}: ${parts(perDevice)}) but ${gib(available.bytes)} is available (${available.source}). ` +
    `Use a smaller batchSize or more microBatches (activations and logits scale with batchSize / microBatches), a shorter nCtx, or fewer or narrower layers (nLayer, nEmbd)${cpus > 1 ? ', or fewer CPU devices' : ''}; ` +
    `or set memoryCheck: false in the config (gptw train --no-memory-check) to start it anyway.`
  )
}

/**
 * The GPU side, from the PyTorch probe's list (total memory per GPU: free memory is lower, so a
 * config that passes may still not fit). A GPU the probe does not list is not checked.
 */
export function gpuMemoryProblem(config: TrainConfig, gpus: readonly TorchGpu[]): string | null {
  if (config.memoryCheck === false) return null
  const perDevice = memoryPerDevice(config)
  for (const device of config.devices.filter((d) => d.startsWith('gpu:'))) {
    const gpu = gpus.find((g) => g.index === Number(device.slice(4)))
    if (!gpu || perDevice.total <= gpu.memoryTotalMiB * 2 ** 20) continue
    return (
      `This config needs about ${gib(perDevice.total)} per device (${parts(perDevice)}) but ${device} (${gpu.name}) has ${gib(gpu.memoryTotalMiB * 2 ** 20)} in all (PyTorch probe). ` +
      `Use a smaller batchSize or more microBatches, more GPUs (the batch splits over them), a shorter nCtx, or fewer or narrower layers (nLayer, nEmbd); or set memoryCheck: false in the config (gptw train --no-memory-check) to start it anyway.`
    )
  }
  return null
}

/** Why a checkpoint of this shape cannot be loaded for eval or generation here, or null when it fits. */
export function inferenceMemoryProblem(model: ModelConfig, what: string, available: AvailableMemory = availableHostMemory()): string | null {
  const e = inferenceMemory(model)
  if (e.total <= available.bytes) return null
  return `Loading ${what} needs about ${gib(e.total)} of memory (weights ${gib(e.state)}, activations ${gib(e.activations)}, logits ${gib(e.logits)}, engine ${gib(e.engine)}) but ${gib(available.bytes)} is available (${available.source}): free memory or pick a smaller checkpoint.`
}

/** The same for a checkpoint folder (ours or a Hugging Face GPT-2 one), read from its config.json; a folder whose config cannot be read is left to the loader's own error. */
export function checkpointMemoryProblem(dir: string, available: AvailableMemory = availableHostMemory()): string | null {
  let model: ModelConfig
  try {
    const file = path.join(dir, CONFIG_FILE)
    model = fromGPT2Config(JSON.parse(fs.readFileSync(file, 'utf8')), file)
  } catch {
    return null
  }
  return inferenceMemoryProblem(model, `the checkpoint ${dir}`, available)
}
