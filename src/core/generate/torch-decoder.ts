// Generation on the PyTorch engine: a Decoder whose KV cache lives in a model server
// (python/gptw_torch/serve.py, the `decode` op), so the Generator's loop, its sampling
// (sampling.ts with the request's seeded RNG), stops and window moves are the embedded engine's
// own: greedy picks the same tokens, and one seed draws the same samples on each run. Several
// devices give one server and Generator each, over which the batch modes spread their samples.
import type { ModelConfig } from '../../shared/config/model'
import { ModelServer, ModelServerPool, type TorchDtypeChoice, cpuServerThreads } from '../engine/pytorch/model-server'
import type { Decoder } from './decoders'
import { Generator, type ModelShape } from './generator'
import type { DeviceGenerator } from './modes'

let sessions = 0

export class TorchDecoder implements Decoder {
  private readonly session = `g${++sessions}`
  private past = 0

  constructor(private readonly server: ModelServer) {}

  get length(): number {
    return this.past
  }

  async next(ids: number[]): Promise<Float32Array> {
    if (!ids.length) throw new Error('TorchDecoder.next needs at least one token.')
    // A fresh sequence (past 0) starts a new cache on the server; later calls extend it.
    const logits = await this.server.decode(this.session, ids, this.past === 0)
    this.past += ids.length
    return logits
  }

  reset(): void {
    this.past = 0
  }

  dispose(): void {
    this.past = 0
    this.server.closeSession(this.session).catch(() => undefined) // a server already gone has nothing to free
  }
}

export interface TorchGeneration {
  generator: Generator<ModelShape>
  server: ModelServer
  /** Ends the generator's session and the server process. */
  close(): Promise<void>
}

export interface TorchGenerationOptions {
  python: string
  dtype?: TorchDtypeChoice
  packageDir?: string
  alternatives?: number
}

/** A Generator whose KV cache lives in `server`. */
export function torchGenerator(server: ModelServer, alternatives?: number): Generator<ModelShape> {
  const i = server.info
  const config: ModelConfig = { nLayer: i.nLayer, nHead: i.nHead, nEmbd: i.nEmbd, nCtx: i.nCtx, vocabSize: i.vocabSize, dropout: 0, layerNormEps: i.layerNormEps }
  return new Generator({ config }, { decoder: new TorchDecoder(server), alternatives })
}

/** A model server for the checkpoint on one device, and a Generator over it. */
export async function startTorchGenerator(checkpoint: string, o: TorchGenerationOptions & { device: string }): Promise<TorchGeneration> {
  const server = await ModelServer.start({
    checkpoint,
    device: o.device,
    dtype: o.dtype,
    purpose: 'generate',
    python: o.python,
    packageDir: o.packageDir,
    batchSize: 1,
    threads: cpuServerThreads([o.device])
  })
  const generator = torchGenerator(server, o.alternatives)
  return {
    generator,
    server,
    close: async () => {
      generator.dispose()
      await server.close()
    }
  }
}

export interface TorchGenerations {
  /** One Generator per device, in the order asked: the batch modes spread their samples over them. */
  lanes: DeviceGenerator[]
  servers: ModelServer[]
  /** Ends the generators' sessions and the server processes. */
  close(): Promise<void>
}

/** A model server per device (started together; CPU ones share the cores, as serve-model's and eval's) and a Generator over each. */
export async function startTorchGenerators(checkpoint: string, o: TorchGenerationOptions & { devices: readonly string[] }): Promise<TorchGenerations> {
  const pool = await ModelServerPool.start(o.devices, {
    checkpoint,
    dtype: o.dtype,
    purpose: 'generate',
    python: o.python,
    packageDir: o.packageDir,
    batchSize: 1,
    threads: cpuServerThreads(o.devices)
  })
  const lanes = pool.servers.map((server, k) => ({ device: o.devices[k], generator: torchGenerator(server, o.alternatives) }))
  return {
    lanes,
    servers: pool.servers,
    close: async () => {
      for (const l of lanes) l.generator.dispose()
      await pool.close()
    }
  }
}
