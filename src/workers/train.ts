// Worker entry: train a GPT (the `train` job kind). Forked by the supervisor as rank 0; forked
// again by rank 0 as a data-parallel peer when GPTW_PEER_RANK is set.
import { TrainWorkerParams } from '../shared/jobs'
import { inlineContext } from '../core/job-context'
import { PEER_RANK_ENV, runPeer } from '../core/engine/parallel/peers'
import { trainJob } from '../core/engine/train-job'
import { runWorker } from './runtime'

if (process.env[PEER_RANK_ENV]) {
  runPeer(async (params, rank, ring) => {
    await trainJob(params, inlineContext(), __filename, rank, ring)
  })
} else {
  runWorker(TrainWorkerParams, (params, ctx) => trainJob(params, ctx, __filename))
}
