// Worker entry: train a GPT (the `train` job kind). Forked by the supervisor as rank 0; forked
// again by rank 0 as a data-parallel peer when GPTW_PEER_RANK is set. On the PyTorch engine it
// launches torchrun instead and relays rank 0's output (core/engine/pytorch/launch.ts).
import { TrainWorkerParams } from '../shared/jobs'
import { inlineContext } from '../core/job-context'
import { PEER_RANK_ENV, runPeer } from '../core/engine/parallel/peers'
import { pytorchTrainJob, resolveEngine } from '../core/engine/pytorch/launch'
import { trainJob } from '../core/engine/train-job'
import { runWorker } from './runtime'

/** The supervisor's `pause` messages, for the PyTorch engine (its processes must be told to checkpoint and stop; the runtime's gate only parks this process). */
function pauseRequests(listener: () => void): () => void {
  const onMessage = (raw: unknown): void => {
    if (typeof raw === 'object' && raw !== null && (raw as { type?: unknown }).type === 'pause') listener()
  }
  process.on('message', onMessage)
  return () => process.off('message', onMessage)
}

if (process.env[PEER_RANK_ENV]) {
  runPeer(async (params, rank, ring) => {
    await trainJob(params, inlineContext(), __filename, rank, ring)
  })
} else {
  runWorker(TrainWorkerParams, async (params, ctx) => {
    const engine = await resolveEngine(params.config)
    if (engine === 'pytorch') return pytorchTrainJob(params, ctx, pauseRequests)
    if (params.config.init) throw new Error('init (start from the weights of a checkpoint) runs on the PyTorch engine only for now: set engine: pytorch.')
    if (params.config.sharding !== 'none')
      throw new Error(
        `sharding ${params.config.sharding} runs on the PyTorch engine only, and engine ${params.config.engine} resolved to the embedded engine (no GPU picked, or no Python with torch and CUDA): set engine: pytorch, or sharding: none.`
      )
    return trainJob(params, ctx, __filename)
  })
}
