// Data-parallel workers: rank 0 (the job's worker) forks ranks 1..N-1 from the same script, tells
// them the job, collects their ring ports and hands everyone the full list. Peers exit when rank 0
// goes away (their IPC channel closes), so a cancelled or crashed job leaves nothing behind.
import { type ChildProcess, fork } from 'node:child_process'
import { z } from 'zod'
import { TrainWorkerParams } from '../../../shared/jobs'
import { type Ring, joinRing, listen } from './ring'

export const PEER_RANK_ENV = 'GPTW_PEER_RANK'

const PeerMessage = z.discriminatedUnion('type', [z.object({ type: z.literal('port'), port: z.number().int() }), z.object({ type: z.literal('error'), message: z.string() })])
const CoordinatorMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('job'), params: TrainWorkerParams, rank: z.number().int().positive() }),
  z.object({ type: z.literal('ring'), ports: z.array(z.number().int()) })
])

/** Environment that points a process at one device: one GPU through CUDA_VISIBLE_DEVICES, or none. */
export function deviceEnv(device: string): Record<string, string> {
  const gpu = /^gpu:(\d+)$/.exec(device)
  return { CUDA_VISIBLE_DEVICES: gpu ? gpu[1] : '' }
}

export interface PeerGroup {
  ring: Ring
  peers: ChildProcess[]
  /** Rejects when a peer reports an error or dies before rank 0 is done. */
  failed: Promise<never>
  stop(): void
}

/** Rank 0: starts the peers and joins the ring with them. */
export async function startPeers(script: string, params: TrainWorkerParams, log: (text: string) => void): Promise<PeerGroup> {
  const world = params.config.devices.length
  const own = await listen()
  const peers: ChildProcess[] = []
  let stopping = false
  let rejectFailed: (err: Error) => void = () => {}
  const failed = new Promise<never>((_, reject) => (rejectFailed = reject))
  failed.catch(() => {})
  const ports = await Promise.all(
    Array.from({ length: world - 1 }, (_, i) => {
      const rank = i + 1
      const child = fork(script, [], { env: { ...process.env, ...deviceEnv(params.config.devices[rank]), [PEER_RANK_ENV]: String(rank) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      peers.push(child)
      child.on('exit', (code, signal) => {
        if (!stopping && (code !== 0 || signal))
          rejectFailed(new Error(`Data-parallel worker ${rank} (${params.config.devices[rank]}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}.`))
      })
      return new Promise<number>((resolve, reject) => {
        child.on('message', (raw) => {
          const msg = PeerMessage.safeParse(raw)
          if (!msg.success) return
          if (msg.data.type === 'port') resolve(msg.data.port)
          else {
            const err = new Error(`Data-parallel worker ${rank}: ${msg.data.message}`)
            reject(err)
            rejectFailed(err)
          }
        })
        child.once('exit', () => reject(new Error(`Data-parallel worker ${rank} exited before joining.`)))
        child.send({ type: 'job', params, rank })
      })
    })
  )
  const all = [own.port, ...ports]
  for (const child of peers) child.send({ type: 'ring', ports: all })
  const ring = await joinRing(0, all, own.server)
  log(`Data parallel over ${world} workers (${params.config.devices.join(', ')}), ring all-reduce on ports ${all.join(', ')}.`)
  return {
    ring,
    peers,
    failed,
    stop() {
      stopping = true
      ring.close()
      for (const p of peers) if (p.exitCode === null) p.kill('SIGTERM')
    }
  }
}

/** Waits for the peers to finish their last step and exit cleanly. */
export function peersDone(group: PeerGroup): Promise<void> {
  return Promise.all(group.peers.map((p) => (p.exitCode !== null ? Promise.resolve() : new Promise<void>((resolve) => p.once('exit', () => resolve()))))).then(() => undefined)
}

/** Ranks 1..N-1: wait for the job, report a port, join the ring, then run `train`. */
export function runPeer(train: (params: TrainWorkerParams, rank: number, ring: Ring) => Promise<void>): void {
  let params: TrainWorkerParams | null = null
  let rank = 0
  let server: Awaited<ReturnType<typeof listen>> | null = null
  const fail = (err: unknown): void => {
    const message = err instanceof Error ? err.message : String(err)
    if (process.connected) process.send!({ type: 'error', message }, () => process.exit(1))
    else process.exit(1)
  }
  process.on('disconnect', () => process.exit(0))
  process.on('message', (raw) => {
    const msg = CoordinatorMessage.safeParse(raw)
    if (!msg.success) return
    if (msg.data.type === 'job') {
      params = msg.data.params
      rank = msg.data.rank
      listen().then((s) => {
        server = s
        process.send!({ type: 'port', port: s.port })
      }, fail)
    } else if (params && server) {
      const p = params
      joinRing(rank, msg.data.ports, server.server)
        .then((ring) => train(p, rank, ring).then(() => ring.close()))
        .then(() => process.exit(0), fail)
    }
  })
}
