// The worker's pause gate: every caller waiting in pausePoint() is released on resume, and every
// one throws JobCancelled on cancel (the runtime used to keep one wake slot, so only the last waiter woke).
import { describe, expect, it } from 'vitest'
import { JobCancelled } from '../src/core/job-context'
import { PauseGate } from '../src/core/pause-gate'
import { waitFor } from './helpers'

/** Starts a waiter and records how it settled. */
function wait(gate: PauseGate): { outcome: 'pending' | 'passed' | 'cancelled' | 'failed' } {
  const w = { outcome: 'pending' as 'pending' | 'passed' | 'cancelled' | 'failed' }
  gate.point().then(
    () => (w.outcome = 'passed'),
    (err: unknown) => (w.outcome = err instanceof JobCancelled ? 'cancelled' : 'failed')
  )
  return w
}

describe('pause gate', () => {
  it('lets callers straight through while running', async () => {
    const gate = new PauseGate()
    await gate.point()
    expect(gate.signal.aborted).toBe(false)
  })

  it('holds every waiter while paused and releases all of them on resume', async () => {
    let parked = 0
    const gate = new PauseGate(() => parked++)
    gate.pause()
    const waiters = [wait(gate), wait(gate), wait(gate)]
    await waitFor(() => parked > 0, 2000, 'the gate to park a waiter')
    // All three reached the gate and wait there (each yields once before it checks the pause).
    await new Promise((resolve) => setImmediate(resolve))
    expect(waiters.map((w) => w.outcome)).toEqual(['pending', 'pending', 'pending'])
    gate.resume()
    await waitFor(() => waiters.every((w) => w.outcome !== 'pending'), 2000, 'every waiter to be released on resume')
    expect(waiters.map((w) => w.outcome)).toEqual(['passed', 'passed', 'passed'])
    expect(parked).toBe(1) // the pause is reported once, not once per waiter
    // A second pause parks again and is reported again.
    gate.pause()
    const again = wait(gate)
    await waitFor(() => parked === 2, 2000, 'the second pause to park')
    gate.resume()
    await waitFor(() => again.outcome === 'passed', 2000, 'the waiter of the second pause')
  })

  it('throws JobCancelled in every waiter on cancel and aborts the signal', async () => {
    const gate = new PauseGate()
    const aborted: unknown[] = []
    gate.signal.addEventListener('abort', () => aborted.push(gate.signal.reason))
    gate.pause()
    const waiters = [wait(gate), wait(gate)]
    await new Promise((resolve) => setImmediate(resolve))
    gate.cancel()
    await waitFor(() => waiters.every((w) => w.outcome !== 'pending'), 2000, 'every waiter to end on cancel')
    expect(waiters.map((w) => w.outcome)).toEqual(['cancelled', 'cancelled'])
    expect(aborted).toHaveLength(1)
    expect(aborted[0]).toBeInstanceOf(JobCancelled)
    // After a cancel every later pause point throws at once, and a pause cannot hold it.
    gate.pause()
    await expect(gate.point()).rejects.toBeInstanceOf(JobCancelled)
  })
})
