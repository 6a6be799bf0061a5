// Length-prefixed binary messages over a TCP socket: write whole buffers, await whole buffers.
import type { Socket } from 'node:net'

export class FramedSocket {
  private chunks: Buffer[] = []
  private buffered = 0
  private readonly waiting: ((msg: Buffer) => void)[] = []
  private readonly ready: Buffer[] = []
  private failure: Error | null = null
  private readonly failWaiters: ((err: Error) => void)[] = []

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true)
    socket.on('data', (data: Buffer) => this.onData(data))
    const fail = (err: Error): void => {
      this.failure ??= err
      for (const reject of this.failWaiters.splice(0)) reject(this.failure)
    }
    socket.on('error', fail)
    socket.on('close', () => fail(new Error('the peer worker closed its connection (did it stop or crash?)')))
  }

  send(payload: Uint8Array): Promise<void> {
    const header = Buffer.alloc(4)
    header.writeUInt32LE(payload.byteLength)
    return new Promise((resolve, reject) => {
      this.socket.write(header)
      this.socket.write(payload, (err) => (err ? reject(err) : resolve()))
    })
  }

  receive(): Promise<Buffer> {
    const msg = this.ready.shift()
    if (msg) return Promise.resolve(msg)
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => {
      this.waiting.push(resolve)
      this.failWaiters.push(reject)
    })
  }

  close(): void {
    this.socket.destroy()
  }

  private onData(data: Buffer): void {
    this.chunks.push(data)
    this.buffered += data.length
    for (;;) {
      if (this.buffered < 4) return
      if (this.chunks[0].length < 4) this.chunks = [Buffer.concat(this.chunks)]
      const length = this.chunks[0].readUInt32LE(0)
      // Join the pieces only once a whole message is in, so big messages are copied once.
      if (this.buffered < 4 + length) return
      const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
      const msg = Buffer.from(all.subarray(4, 4 + length))
      const rest = all.subarray(4 + length)
      this.chunks = rest.length ? [rest] : []
      this.buffered = rest.length
      const waiter = this.waiting.shift()
      if (waiter) {
        this.failWaiters.shift()
        waiter(msg)
      } else this.ready.push(msg)
    }
  }
}
