// Worker entry: evaluate checkpoints on harness tasks (the `eval` job kind). The request cache
// lives in main's SQLite; this worker reaches it over IPC.
import { EvalWorkerParams } from '../shared/config/eval'
import { IpcEvalCacheStore } from '../core/eval/cache/ipc-store'
import { evalJob } from '../core/eval/job'
import { runWorker } from './runtime'

runWorker(EvalWorkerParams, (params, ctx) => evalJob(params, ctx, new IpcEvalCacheStore(ctx)))
