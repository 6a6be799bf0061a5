// What torchrun says of ranks that failed (its ChildFailedError summary: rank, local rank, exit
// code or signal, pid), read from a local launcher's stderr or a Slurm job's log, and said for
// people: "rank 1 (local rank 1, pid 8922) was killed by SIGKILL".

/** A rank the launcher reported as failed. */
export interface RankFailure {
  rank: number
  localRank: number
  exitCode: number
  pid: number
  traceback: string
}

/** The failures in torchrun's ChildFailedError summary; ranks killed by a signal first (the others usually died of losing their peer). */
export function parseRankFailures(stderr: string): RankFailure[] {
  const found = new Map<number, RankFailure>()
  const re = /rank\s*:\s*(\d+)\s*\(local_rank:\s*(\d+)\)\s*\n\s*exitcode\s*:\s*(-?\d+)\s*\(pid:\s*(\d+)\)(?:\s*\n\s*error_file\s*:[^\n]*)?(?:\s*\n\s*traceback\s*:\s*([^\n]*))?/g
  for (const m of stderr.matchAll(re)) {
    const rank = Number(m[1])
    if (!found.has(rank)) found.set(rank, { rank, localRank: Number(m[2]), exitCode: Number(m[3]), pid: Number(m[4]), traceback: (m[5] ?? '').trim() })
  }
  return [...found.values()].sort((a, b) => Number(b.exitCode < 0) - Number(a.exitCode < 0) || a.rank - b.rank)
}

/** "rank 1 (local rank 1, pid 8922) was killed by SIGKILL": a failure for people. */
export function describeFailure(f: RankFailure): string {
  const how = f.exitCode < 0 ? `was killed by ${signalName(-f.exitCode)}` : `exited with code ${f.exitCode}`
  return `rank ${f.rank} (local rank ${f.localRank}, pid ${f.pid}) ${how}`
}

function signalName(n: number): string {
  const names: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 6: 'SIGABRT', 9: 'SIGKILL', 11: 'SIGSEGV', 15: 'SIGTERM' }
  return names[n] ?? `signal ${n}`
}
