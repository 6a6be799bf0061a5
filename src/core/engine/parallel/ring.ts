// Ring all-reduce between data-parallel workers over loopback TCP. Each worker listens on its own
// port, connects to the next rank and accepts the previous one. A sum runs as reduce-scatter then
// all-gather over N chunks (2(N-1) transfers of 1/N of the buffer each), so every worker ends
// with bit-identical sums: each chunk is reduced by one owner and copied to the others. A small
// per-worker record (its step figures, for rank 0's per-device metrics) can ride along: one more
// frame after each all-gather chunk, passed round the ring as the chunks are.
import net from 'node:net'
import { FramedSocket } from './framed-socket'

export interface Ring {
  rank: number
  worldSize: number
  allReduce(buffer: Float32Array): Promise<void>
  /** allReduce, and every worker's `record` gathered on the way (the same length on all): returned by rank, on every worker. */
  allReduceGather(buffer: Float32Array, record: Float64Array): Promise<Float64Array[]>
  close(): void
}

/** Starts listening; returns the port so the coordinator can tell the others. */
export function listen(): Promise<{ server: net.Server; port: number }> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as net.AddressInfo).port }))
  })
}

/** Joins the ring once every rank's port is known. */
export async function joinRing(rank: number, ports: number[], server: net.Server, timeoutMs = 30_000): Promise<Ring> {
  const worldSize = ports.length
  const fromPrev = new Promise<net.Socket>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rank ${rank}: the previous worker never connected`)), timeoutMs)
    server.once('connection', (socket) => {
      clearTimeout(timer)
      resolve(socket)
    })
  })
  const toNext = await connectWithRetry(ports[(rank + 1) % worldSize], timeoutMs)
  const prev = new FramedSocket(await fromPrev)
  const next = new FramedSocket(toNext)
  server.close()

  async function reduce(buffer: Float32Array, record: Float64Array | null): Promise<Float64Array[]> {
    const n = worldSize
    const bounds = Array.from({ length: n + 1 }, (_, i) => Math.floor((buffer.length * i) / n))
    const chunk = (i: number): Float32Array => buffer.subarray(bounds[((i % n) + n) % n], bounds[(((i % n) + n) % n) + 1])
    const bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    // Reduce-scatter: after step s, chunk (rank - s - 1) holds the sum of s + 2 workers.
    for (let s = 0; s < n - 1; s++) {
      const sending = next.send(bytes(chunk(rank - s)))
      const incoming = await prev.receive()
      await sending
      const target = chunk(rank - s - 1)
      const values = new Float32Array(incoming.buffer, incoming.byteOffset, incoming.byteLength / 4)
      for (let i = 0; i < target.length; i++) target[i] += values[i]
    }
    // All-gather: pass the finished chunks round the ring (and the records: at step s, that of rank - s).
    const records: Float64Array[] = []
    if (record) records[rank] = record
    for (let s = 0; s < n - 1; s++) {
      const from = (rank - s + n) % n
      const sending = Promise.all([next.send(bytes(chunk(rank + 1 - s))), record ? next.send(new Uint8Array(records[from].buffer, records[from].byteOffset, records[from].byteLength)) : null])
      const incoming = await prev.receive()
      chunk(rank - s).set(new Float32Array(incoming.buffer, incoming.byteOffset, incoming.byteLength / 4))
      if (record) {
        const r = await prev.receive()
        // Copied out: a received frame's offset need not suit a Float64Array.
        records[(from - 1 + n) % n] = new Float64Array(r.buffer.slice(r.byteOffset, r.byteOffset + r.byteLength))
      }
      await sending
    }
    return records
  }

  return {
    rank,
    worldSize,
    async allReduce(buffer) {
      await reduce(buffer, null)
    },
    allReduceGather: reduce,
    close() {
      prev.close()
      next.close()
    }
  }
}

async function connectWithRetry(port: number, timeoutMs: number): Promise<net.Socket> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1', () => resolve(socket))
        socket.once('error', reject)
      })
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`Could not reach the next data-parallel worker on port ${port}: ${(err as Error).message}`, { cause: err })
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}
