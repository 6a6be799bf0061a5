// The generation worker's model on the engine its job asks for: the embedded GPT (tfjs + native
// kernels, in the worker) or a PyTorch model server (python/gptw_torch/serve.py) on one device,
// with a Generator over either, so the worker's request loop is the same for both. `auto` resolves
// as training and eval do: PyTorch when the device is a GPU and the interpreter has torch with CUDA.
import type { GenerateWorkerParams, LoadedModelInfo } from '../../../shared/generate'
import { parameterCount } from '../../../shared/config/model'
import type { JobContext } from '../../job-context'
import { resolveEvalEngine, torchPython } from '../../eval/engine/torch-model'
import { Generator, type ModelShape } from '../../generate/generator'
import { describeModel, loadForGeneration } from '../../generate/load'
import { checkCheckpointFolder } from '../../generate/checkpoint-folder'
import { startTorchGenerator } from '../../generate/torch-decoder'
import { describeBackend, initBackend } from '../backend'
import type { GPT } from '../model'
import type { ModelServer } from './model-server'

export interface LoadedGeneration {
  generator: Generator<ModelShape>
  /** The embedded engine's GPT (the in-worker API serves it); null on PyTorch. */
  gpt: GPT | null
  /** The PyTorch engine's model server; null on the embedded engine. */
  server: ModelServer | null
  info: LoadedModelInfo
  /** Frees the weights: the GPT's tensors, or the server process. */
  close(): Promise<void>
}

export async function loadGeneration(params: GenerateWorkerParams, ctx: JobContext): Promise<LoadedGeneration> {
  const engine = await resolveEvalEngine({ engine: params.engine, devices: [params.device], python: params.python })
  if (engine === 'pytorch') {
    const report = await torchPython(params.python)
    const torch = await startTorchGenerator(checkCheckpointFolder(params.checkpoint), { device: params.device, dtype: params.dtype, python: report.python })
    const i = torch.server.info
    const detail = `PyTorch engine (torch ${i.torch}) on ${i.device}, ${i.dtype}`
    ctx.report({ type: 'backend', name: 'pytorch', detail })
    const config = { nLayer: i.nLayer, nHead: i.nHead, nEmbd: i.nEmbd, nCtx: i.nCtx, vocabSize: i.vocabSize, dropout: 0, layerNormEps: i.layerNormEps }
    return {
      generator: torch.generator,
      gpt: null,
      server: torch.server,
      info: {
        nLayer: i.nLayer,
        nHead: i.nHead,
        nEmbd: i.nEmbd,
        nCtx: i.nCtx,
        vocabSize: i.vocabSize,
        parameters: parameterCount(config),
        backend: detail,
        engine: 'pytorch',
        dtype: i.dtype,
        weightBytes: i.weightBytes
      },
      close: () => torch.close()
    }
  }
  const backend = await initBackend(params.backend)
  ctx.report({ type: 'backend', name: backend.name, detail: backend.detail })
  const gpt = loadForGeneration(params.checkpoint)
  const generator = new Generator(gpt)
  return {
    generator,
    gpt,
    server: null,
    info: { ...describeModel(gpt, describeBackend(backend)), engine: 'embedded', dtype: 'float32' },
    close: async () => {
      generator.dispose()
      gpt.dispose()
    }
  }
}
