// The PyTorch engine's model server (python/gptw_torch/serve.py) from Node: one long-lived Python
// process per checkpoint and device, spoken to in JSON lines (one request, one reply, in order).
// A pool holds one server per device and shards a batch of token requests across them: the
// requests are sorted by length, cut into buckets of a batch each, and every bucket goes to the
// server with the least work so far (tokens), so each device gets buckets of like lengths; the
// replies are merged back into the order asked.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import os from 'node:os'
import readline from 'node:readline'
import { torchPackageDir } from './launch'

/** What ran (the ready line's dtype). */
export type TorchDtype = 'float32' | 'bfloat16'
/** What may be asked: auto is bfloat16 for generation on a CUDA GPU with bf16, else float32 (serve.py's choose_dtype says why). */
export type TorchDtypeChoice = TorchDtype | 'auto'

export interface ModelServerOptions {
  checkpoint: string
  /** The app's device id (cpu:0, gpu:1); gpu:i runs on cuda:i. */
  device: string
  /** Default auto; bfloat16 on the CPU is refused (the server does not start, saying why). The ready line says which ran. */
  dtype?: TorchDtypeChoice
  /** What the server is for: decides auto's dtype (default score: float32). */
  purpose?: 'score' | 'generate'
  batchSize?: number
  /** CPU threads per process, torch's and its BLAS's (0: torch's default); cpuServerThreads gives the default. */
  threads?: number
  python: string
  packageDir?: string
  /** Extra environment for the process (tests: serve.py's GPTW_SERVE_TEST_FAIL_STEP_AT). */
  env?: Readonly<Record<string, string>>
}

/** What the server says once the weights are loaded. */
export interface ServerInfo {
  device: string
  dtype: TorchDtype
  torch: string
  nLayer: number
  nHead: number
  nEmbd: number
  nCtx: number
  vocabSize: number
  vocabPadded: number
  layerNormEps: number
  /** The weights' bytes in their dtype (bfloat16: 2 a parameter), counted from the loaded tensors. */
  weightBytes: number
  loadSeconds: number
}

export interface TokenItem {
  input: readonly number[]
  continuation: readonly number[]
}

export interface TokenScore {
  logprob: number
  isGreedy: boolean
}

interface Pending {
  resolve: (reply: Record<string, unknown>) => void
  reject: (err: Error) => void
}

const STDERR_KEPT = 40

/** cpu:N -> cpu, gpu:N -> cuda:N. */
export function torchDevice(device: string): string {
  const m = /^(cpu|gpu):(\d+)$/.exec(device)
  if (!m) throw new Error(`${device} is not a device id (cpu:0, gpu:1)`)
  return m[1] === 'cpu' ? 'cpu' : `cuda:${m[2]}`
}

/**
 * CPU threads for each model server on `devices`' CPU entries (one process each; 0 where there are
 * none: GPU servers keep torch's default): the cores shared between the processes, at least one
 * each, with threadEnv below. Measured on the 2-core machine (AMD EPYC; serve.py's step, decode and
 * score in-process, with threadEnv; two interleaved rounds at load 1.6-2.1): a 6 x 768 model (GPT-2's
 * width) took 3.0-3.1 s for 8 x 24 tokens in batched steps, 10.4-11.0 s one at a time and 1.6-1.7 s
 * to score 16 sequences on 2 threads, against 3.7-3.9, 18.0-23.3 and 2.6-2.9 s on 1. The bench
 * model (4 x 256) is faster on one, its ops too small to split: npm run bench -- --only
 * generation-pytorch at load 2.4-5 gave 140 tokens/s batched and 39 one at a time on 1 thread, 87
 * and 28 on 2.
 */
export function cpuServerThreads(devices: readonly string[], cores = os.cpus().length): number {
  const servers = devices.filter((d) => d.startsWith('cpu:')).length
  return servers ? Math.max(1, Math.floor(cores / servers)) : 0
}

/**
 * The environment that makes `threads` the server's thread count. Why 2 threads were slower than 1
 * here: Debian's torch runs its GEMMs in OpenBLAS's own pool (as many threads as cores, whatever
 * torch.set_num_threads says) and its other ops on OpenMP threads that spin after every parallel
 * region, on the core OpenBLAS's second thread needs (in-process, load 3-7: 6 x 768, 8 x 24 batched
 * tokens 28.7 s, 17 s of CPU, against 3.9 s sleeping instead; the bench model's 64 scored sequences
 * 7.1-13.0 s against 1.2-3.7 s). So both pools are told the count (and MKL's, where a wheel has it), and OpenMP's
 * threads sleep between regions (OMP_WAIT_POLICY=PASSIVE, unless the environment says otherwise).
 */
function threadEnv(threads: number): Record<string, string> {
  const env: Record<string, string> = { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' }
  if (threads > 0) for (const name of ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS']) env[name] = String(threads)
  return env
}

export class ModelServer {
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private readonly stderr: string[] = []
  private exited: Error | null = null
  /** Sessions the server holds a cache for (a decode created it, close forgets it). */
  private readonly cached = new Set<string>()
  /** One-token steps waiting for this turn's `step` request. */
  private steps: { session: string; id: number; resolve: (logits: Float32Array) => void; reject: (err: Error) => void }[] = []
  private readonly stepCounts = new Map<number, number>()
  private flushQueued = false

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly info: ServerInfo,
    lines: readline.Interface
  ) {
    lines.on('line', (line) => this.onLine(line))
  }

  /** Starts the process and waits for its ready line; rejects with its error or stderr when it fails. */
  static start(o: ModelServerOptions): Promise<ModelServer> {
    const packageDir = o.packageDir ?? torchPackageDir()
    const args = [
      '-m',
      'gptw_torch.serve',
      '--checkpoint',
      o.checkpoint,
      '--device',
      torchDevice(o.device),
      '--dtype',
      o.dtype ?? 'auto',
      '--purpose',
      o.purpose ?? 'score',
      '--batch-size',
      String(o.batchSize ?? 8),
      '--threads',
      String(o.threads ?? 0)
    ]
    const child = spawn(o.python, args, {
      env: { ...process.env, ...threadEnv(o.threads ?? 0), ...o.env, PYTHONPATH: packageDir, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    const stderr: string[] = []
    child.stdin.on('error', () => undefined) // a dead process fails its requests through 'exit'
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d: string) => stderr.push(...d.split('\n').filter(Boolean)))
    const lines = readline.createInterface({ input: child.stdout })
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        lines.removeAllListeners('line')
        child.kill('SIGKILL')
        reject(new Error(`The PyTorch model server for ${o.checkpoint} on ${o.device} did not start: ${why}`))
      }
      child.once('error', (e) => fail(`${o.python}: ${e.message}`))
      child.once('exit', (code) => fail(`it exited with ${code}${stderr.length ? `: ${stderr.slice(-3).join(' | ')}` : ''}`))
      lines.once('line', (line) => {
        let msg: Record<string, unknown>
        try {
          msg = JSON.parse(line) as Record<string, unknown>
        } catch {
          return fail(`it printed "${line.slice(0, 200)}" before its ready line`)
        }
        if (msg.type !== 'ready') return fail(String(msg.error ?? line))
        child.removeAllListeners('exit')
        child.removeAllListeners('error')
        const server = new ModelServer(child, msg as unknown as ServerInfo, lines)
        server.stderr.push(...stderr)
        child.stderr.on('data', (d: string) => server.keepStderr(d))
        child.on('exit', (code, signal) => server.onExit(code, signal))
        resolve(server)
      })
    })
  }

  private keepStderr(d: string): void {
    this.stderr.push(...d.split('\n').filter(Boolean))
    if (this.stderr.length > STDERR_KEPT) this.stderr.splice(0, this.stderr.length - STDERR_KEPT)
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      this.keepStderr(line) // stray output (a library's print) is kept with stderr for the error text
      return
    }
    const p = this.pending.get(msg.id as number)
    if (!p) return
    this.pending.delete(msg.id as number)
    if (msg.ok === true) p.resolve(msg)
    else p.reject(new Error(`PyTorch model server (${this.info.device}): ${String(msg.error)}`))
    this.scheduleSteps()
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = new Error(`The PyTorch model server (${this.info.device}) exited (${signal ?? code})${this.stderr.length ? `: ${this.stderr.slice(-5).join(' | ')}` : ''}`)
    for (const p of this.pending.values()) p.reject(this.exited)
    this.pending.clear()
    for (const s of this.steps.splice(0)) s.reject(this.exited)
  }

  private request(op: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(this.exited)
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.stdin.write(JSON.stringify({ id, op, ...body }) + '\n')
    })
  }

  async score(items: readonly TokenItem[]): Promise<TokenScore[]> {
    if (!items.length) return []
    return (await this.request('score', { items })).results as TokenScore[]
  }

  /** The argmax next token after each sequence (each must fit the context). */
  async nextTokens(seqs: readonly (readonly number[])[]): Promise<number[]> {
    if (!seqs.length) return []
    return (await this.request('next', { seqs })).tokens as number[]
  }

  /** Up to `steps` argmax tokens after each sequence (KV-cached on the server); fewer where the context would overflow, at least one. */
  async greedy(seqs: readonly (readonly number[])[], steps: number): Promise<number[][]> {
    if (!seqs.length) return []
    return (await this.request('greedy', { seqs, steps })).tokens as number[][]
  }

  /**
   * Appends ids to a session's KV cache (a fresh one with reset) and returns the next token's logits
   * over the padded vocabulary. One-token steps of sessions that have a cache wait while the server
   * is busy (it answers in order, so they would wait there anyway) and go together as one `step`,
   * one forward over all of them, once it is idle: the served API's sequences, each awaiting its
   * last token, fall into step with each other even when their prompts were read at different times.
   */
  decode(session: string, ids: readonly number[], reset: boolean): Promise<Float32Array> {
    if (reset || ids.length !== 1 || !this.cached.has(session)) {
      return this.request('decode', { session, ids, reset }).then((r) => {
        this.cached.add(session)
        return fromBase64(r.logits as string)
      })
    }
    if (this.exited) return Promise.reject(this.exited)
    return new Promise((resolve, reject) => {
      this.steps.push({ session, id: ids[0], resolve, reject })
      this.scheduleSteps()
    })
  }

  /** Sends the waiting steps once the server is idle, a turn later (the replies just resolved may add theirs). */
  private scheduleSteps(): void {
    if (this.flushQueued || !this.steps.length || this.pending.size) return
    this.flushQueued = true
    setImmediate(() => {
      this.flushQueued = false
      if (!this.pending.size) this.flushSteps()
    })
  }

  /**
   * The one-token steps asked since the last flush, as one `step` request (a single one as
   * `decode`). A refused step (a session past the context, say) is asked again one session at a
   * time, so only the sequence at fault fails: the server changes no cache of a step that failed,
   * whether it refused it up front or failed part-way, so no token is appended twice.
   */
  private flushSteps(): void {
    const batch = this.steps.splice(0)
    if (!batch.length) return
    const alone = (s: (typeof batch)[number]): void => {
      this.count(1)
      this.request('decode', { session: s.session, ids: [s.id], reset: false }).then((r) => s.resolve(fromBase64(r.logits as string)), s.reject)
    }
    if (batch.length === 1) return alone(batch[0])
    this.count(batch.length)
    this.request('step', { sessions: batch.map((s) => s.session), ids: batch.map((s) => s.id) }).then(
      (r) => batch.forEach((s, i) => s.resolve(fromBase64((r.logits as string[])[i]))),
      () => batch.forEach(alone)
    )
  }

  private count(sequences: number): void {
    this.stepCounts.set(sequences, (this.stepCounts.get(sequences) ?? 0) + 1)
  }

  /** How many one-token decode forwards ran per number of sequences in them (1: alone), since the start. */
  get stepBatches(): ReadonlyMap<number, number> {
    return this.stepCounts
  }

  async closeSession(session: string): Promise<void> {
    this.cached.delete(session)
    await this.request('close', { session })
  }

  /** Asks the process to quit; kills it when it has not within the grace period. */
  async close(graceMs = 5000): Promise<void> {
    if (this.exited) return
    const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
    this.child.stdin.end(JSON.stringify({ id: 0, op: 'quit' }) + '\n')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await gone
    clearTimeout(timer)
  }
}

function fromBase64(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64')
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength))
}

/** Buckets of up to `batchSize` requests, longest first, each given to the shard with the least work so far. */
export function shardByLength(lengths: readonly number[], shards: number, batchSize: number): number[][] {
  const order = lengths.map((_, i) => i).sort((a, b) => lengths[b] - lengths[a] || a - b)
  const out: number[][] = Array.from({ length: shards }, () => [])
  const load = new Array<number>(shards).fill(0)
  for (let s = 0; s < order.length; s += batchSize) {
    const bucket = order.slice(s, s + batchSize)
    let k = 0
    for (let j = 1; j < shards; j++) if (load[j] < load[k]) k = j
    out[k].push(...bucket)
    load[k] += bucket.reduce((n, i) => n + lengths[i], 0)
  }
  return out
}

/** One server per device; token requests sharded across them by length buckets and merged back in order. */
export class ModelServerPool {
  private constructor(
    readonly servers: ModelServer[],
    private readonly batchSize: number
  ) {}

  /** Starts a server per device (in parallel); if one fails, the others are closed and the first error is raised. */
  static async start(devices: readonly string[], o: Omit<ModelServerOptions, 'device'>): Promise<ModelServerPool> {
    if (!devices.length) throw new Error('the PyTorch engine needs at least one device')
    const started = await Promise.allSettled(devices.map((device) => ModelServer.start({ ...o, device })))
    const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed) {
      await Promise.all(servers.map((s) => s.close()))
      throw failed.reason as Error
    }
    return new ModelServerPool(servers, o.batchSize ?? 8)
  }

  get info(): ServerInfo {
    return this.servers[0].info
  }

  /** e.g. "2 x cpu, float32" */
  describe(): string {
    const devices = this.servers.map((s) => s.info.device)
    return `${devices.length > 1 && new Set(devices).size === 1 ? `${devices.length} x ${devices[0]}` : devices.join(', ')}, ${this.info.dtype}; torch ${this.info.torch}`
  }

  private async sharded<T, R>(items: readonly T[], length: (x: T) => number, ask: (server: ModelServer, part: T[]) => Promise<R[]>): Promise<R[]> {
    // A call smaller than a batch per server (greedy decoding's steps) is still spread over all of them.
    const bucket = Math.max(1, Math.min(this.batchSize, Math.ceil(items.length / this.servers.length)))
    const shards = shardByLength(items.map(length), this.servers.length, bucket)
    const out = new Array<R>(items.length)
    await Promise.all(
      shards.map(async (idx, k) => {
        if (!idx.length) return
        const got = await ask(
          this.servers[k],
          idx.map((i) => items[i])
        )
        if (got.length !== idx.length) throw new Error(`the PyTorch model server on ${this.servers[k].info.device} answered ${got.length} of ${idx.length} requests`)
        idx.forEach((i, j) => (out[i] = got[j]))
      })
    )
    return out
  }

  score(items: readonly TokenItem[]): Promise<TokenScore[]> {
    return this.sharded(
      items,
      (x) => x.input.length,
      (s, part) => s.score(part)
    )
  }

  nextTokens(seqs: readonly (readonly number[])[]): Promise<number[]> {
    return this.sharded(
      seqs,
      (x) => x.length,
      (s, part) => s.nextTokens(part)
    )
  }

  greedy(seqs: readonly (readonly number[])[], steps: number): Promise<number[][]> {
    return this.sharded(
      seqs,
      (x) => x.length,
      (s, part) => s.greedy(part, steps)
    )
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()))
  }
}
