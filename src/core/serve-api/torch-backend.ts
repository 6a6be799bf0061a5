// The OpenAI-compatible API's models on the PyTorch engine (issue 18): what server.ts asks of a
// served model's generator (models.ts ServingGenerator: submit, canTake, load, close and the
// model's config), answered by model servers (python/gptw_torch/serve.py), one per device. Each
// sequence keeps its KV cache in a server session (the decode op) and goes token by token; the
// sequences on one server decode their next tokens together, in one forward (ModelServer.decode
// gathers their steps), those on several devices run at once, each new one going to the device
// with the fewest. Tokens are chosen here in Node by sampling.ts
// with the sequence's seeded RNG, and turned into text and finish reasons by the same SequenceState
// (sequence-state.ts) as BatchGenerator's, so greedy gives the embedded engine's text and a seed the same draws.
import fs from 'node:fs'
import path from 'node:path'
import type { ModelConfig } from '../../shared/config/model'
import { type ModelServer, ModelServerPool, type TorchDtypeChoice, cpuServerThreads } from '../engine/pytorch/model-server'
import { QueueFullError, type SequenceCallbacks, type SequenceHandle, type SequenceRequest, type SequenceResult } from '../generate/batch-generator'
import { SequenceState } from '../generate/sequence-state'
import { type ServedModel, uniqueIds } from './models'

export interface TorchServingOptions {
  /** One model server per device (cpu:0, gpu:1). */
  devices: string[]
  python: string
  /** auto: bfloat16 on a CUDA GPU with bf16, else float32 (bfloat16 on the CPU is refused). */
  dtype?: TorchDtypeChoice
  /** Sequences decoding at once per model (across its devices). */
  maxBatch?: number
  /** Sequences waiting for a slot per model at most; past it submit throws QueueFullError. */
  maxQueue?: number
  packageDir?: string
}

let sessions = 0

export class TorchBatchGenerator {
  readonly maxBatch: number
  readonly maxQueue: number
  /** The shape the API checks prompts against; dispose ends the server processes. */
  readonly model: { readonly config: ModelConfig; dispose(): void }
  /** Ends the model servers (a no-op where they are someone else's). */
  readonly release: () => Promise<void>
  private readonly vocab: number
  private readonly busy: number[]
  private waiting: SequenceState[] = []
  private readonly active = new Set<SequenceState>()
  private closed = false

  /**
   * Over running servers of one checkpoint (one per device). `release` ends them (model.dispose and
   * unload call it); the generation worker passes none: its server outlives the API.
   */
  constructor(
    readonly servers: readonly ModelServer[],
    options: { maxBatch?: number; maxQueue?: number; release?: () => Promise<void> } = {}
  ) {
    if (!servers.length) throw new Error('the PyTorch engine needs at least one model server')
    const i = servers[0].info
    const config: ModelConfig = { nLayer: i.nLayer, nHead: i.nHead, nEmbd: i.nEmbd, nCtx: i.nCtx, vocabSize: i.vocabSize, dropout: 0, layerNormEps: i.layerNormEps }
    this.release = options.release ?? (async () => undefined)
    this.model = { config, dispose: () => void this.release() }
    this.vocab = config.vocabSize
    this.busy = servers.map(() => 0)
    this.maxBatch = Math.max(1, options.maxBatch ?? 16)
    this.maxQueue = Math.max(0, options.maxQueue ?? 64)
  }

  get load(): { active: number; waiting: number } {
    return { active: this.active.size, waiting: this.waiting.length }
  }

  /** Would `count` more sequences be taken now (a free slot or room in the queue for each)? */
  canTake(count: number): boolean {
    const free = Math.max(0, this.maxBatch - this.active.size - this.waiting.length)
    return !this.closed && this.waiting.length + Math.max(0, count - free) <= this.maxQueue
  }

  submit(req: SequenceRequest, cb: SequenceCallbacks = {}): SequenceHandle {
    if (this.closed) throw new Error('The generator is closed.')
    if (!this.canTake(1)) throw new QueueFullError(`The queue is full (${this.maxQueue} waiting, ${this.maxBatch} decoding).`)
    const { nCtx } = this.model.config
    if (!req.ids.length) throw new Error('The prompt has no tokens.')
    if (req.ids.length > nCtx) throw new Error(`The prompt has ${req.ids.length} tokens, more than the model's context of ${nCtx}.`)
    const bad = req.ids.find((id) => !Number.isInteger(id) || id < 0 || id >= this.vocab)
    if (bad !== undefined) throw new Error(`Token ${bad} is outside the model's vocabulary of ${this.vocab}.`)
    let seq!: SequenceState
    const result = new Promise<SequenceResult>((resolve, reject) => {
      seq = new SequenceState(req, cb, this.vocab, resolve, reject)
    })
    this.waiting.push(seq)
    this.pump()
    return {
      result,
      cancel: () => {
        seq.cancelled = true
        const i = this.waiting.indexOf(seq)
        if (i >= 0) {
          this.waiting.splice(i, 1)
          seq.finish('cancelled')
        }
      }
    }
  }

  /** Cancels everything queued and running and waits for the running ones to end (the servers stay up: model.dispose ends them). */
  async close(): Promise<void> {
    this.closed = true
    for (const s of [...this.waiting, ...this.active]) s.cancelled = true
    for (const s of this.waiting.splice(0)) s.finish('cancelled')
    while (this.active.size) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  /** Waiting sequences take the free slots, each on the server with the fewest running. */
  private pump(): void {
    while (this.active.size < this.maxBatch && this.waiting.length) {
      const s = this.waiting.shift()!
      let k = 0
      for (let j = 1; j < this.busy.length; j++) if (this.busy[j] < this.busy[k]) k = j
      this.active.add(s)
      this.busy[k]++
      void this.run(s, this.servers[k]).finally(() => {
        this.active.delete(s)
        this.busy[k]--
        this.pump()
      })
    }
  }

  private async run(s: SequenceState, server: ModelServer): Promise<void> {
    const session = `api${++sessions}`
    const { ids, maxTokens } = s.req
    try {
      if (s.cancelled) return s.finish('cancelled')
      let logits: Float32Array
      if (s.req.promptLogprobs) {
        // every prompt position's logits: the prompt fed a token at a time (decode answers the last position)
        const rows: Float32Array[] = []
        for (const [i, id] of ids.entries()) rows.push(await server.decode(session, [id], i === 0))
        s.readPrompt(rows)
        logits = rows[rows.length - 1]
      } else logits = await server.decode(session, ids, true)
      let fed = ids.length
      if (maxTokens <= 0) return s.finish('length')
      for (;;) {
        if (s.cancelled) return s.finish('cancelled')
        const next = s.next(logits)
        if ('end' in next) return s.finish(next.end)
        // as BatchGenerator: a token that would not fit the window ends the sequence
        if (fed + 1 > this.model.config.nCtx) return s.finish('length')
        logits = await server.decode(session, [next.id], false)
        fed++
      }
    } catch (err) {
      s.fail(err as Error)
    } finally {
      server.closeSession(session).catch(() => undefined) // a server already gone has nothing to free
    }
  }
}

/** Starts each checkpoint's model servers (one per device; CPU ones share the cores) and gives it a generator; on a failure the ones started are closed. */
export async function loadTorchServedModels(dirs: string[], o: TorchServingOptions): Promise<ServedModel<TorchBatchGenerator>[]> {
  const ids = uniqueIds(dirs)
  const threads = cpuServerThreads(o.devices)
  const served: ServedModel<TorchBatchGenerator>[] = []
  try {
    for (const [i, dir] of dirs.entries()) {
      const pool = await ModelServerPool.start(o.devices, { checkpoint: dir, dtype: o.dtype ?? 'auto', purpose: 'generate', batchSize: 1, threads, python: o.python, packageDir: o.packageDir })
      served.push(torchServed(pool.servers, ids[i], dir, { ...o, release: () => pool.close() }))
    }
  } catch (err) {
    await Promise.all(served.map((s) => s.generator.release()))
    throw err
  }
  return served
}

/** Running model servers of a checkpoint served under `id` (the generation worker's server, or a pool's). */
export function torchServed(
  servers: readonly ModelServer[],
  id: string,
  dir: string,
  o: { maxBatch?: number; maxQueue?: number; release?: () => Promise<void> } = {}
): ServedModel<TorchBatchGenerator> {
  const created = Math.floor((fs.statSync(dir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) / 1000)
  return { id, dir: path.resolve(dir), created, generator: new TorchBatchGenerator(servers, o) }
}

/** Stops each model's generator and ends its server processes. */
export async function unloadTorchServedModels(served: ServedModel<TorchBatchGenerator>[]): Promise<void> {
  for (const s of served) {
    await s.generator.close()
    await s.generator.release()
  }
}
