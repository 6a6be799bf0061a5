// The config's `sharding` against what the PyTorch engine's interpreter has: `full` (FSDP
// FULL_SHARD) needs torch >= 2.0 with CUDA, so a local run is refused before launch with what
// runs instead. SSH and Slurm hosts have their own torch: there the ranks refuse at start
// (python/gptw_torch/sharding.py check_sharding) with the same words.
import type { ShardingChoice } from '../../../shared/config/train'
import type { PytorchReport } from '../../../shared/devices'

/** Why this sharding cannot run on the probed interpreter, or null when it can. */
export function shardingProblem(sharding: ShardingChoice, report: Pick<PytorchReport, 'torch' | 'cudaAvailable'>): string | null {
  if (sharding !== 'full' || !report.torch) return null
  const major = Number(/^(\d+)\./.exec(report.torch)?.[1] ?? NaN)
  if (major >= 2 && report.cudaAvailable) return null
  return (
    `sharding full (FSDP FULL_SHARD) needs torch >= 2.0 with CUDA; this is torch ${report.torch} ${report.cudaAvailable ? 'with CUDA' : 'without CUDA'}. ` +
    'Use sharding optimizer (ZeRO stage 1: the optimizer state split over the processes, under DDP; any torch, CPU or GPU) or none.'
  )
}
