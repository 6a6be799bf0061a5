// Worker entry: evaluate checkpoints on harness tasks (the `eval` job kind). The request cache
// lives in main's SQLite; this worker reaches it over IPC.
import { EvalWorkerParams } from '../../shared/config/eval'
import { IpcEvalCacheStore } from '../eval/cache/ipc-store'
import { evalJob } from '../eval/job'
import { runWorker } from '../runtime'

runWorker(EvalWorkerParams, (params, ctx) => evalJob(params, ctx, new IpcEvalCacheStore(ctx)))
