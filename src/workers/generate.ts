// Worker entry: a loaded model serving generation requests (the `generate` job kind). Main's
// requests arrive as generate / generate-stop / unload messages beside the job protocol's own.
import { GenerateWorkerParams } from '../shared/generate'
import { MainMessage } from '../shared/protocol'
import { type WorkerRequest, serveGeneration } from '../core/generate/serve'
import { runWorker } from './runtime'

runWorker(GenerateWorkerParams, (params, ctx) =>
  serveGeneration(params, ctx, (listener) => {
    process.on('message', (raw) => {
      const parsed = MainMessage.safeParse(raw)
      if (!parsed.success) return
      const msg = parsed.data
      if (msg.type === 'generate' || msg.type === 'generate-stop' || msg.type === 'unload' || msg.type === 'serve-start' || msg.type === 'serve-stop') listener(msg as WorkerRequest)
    })
  })
)
