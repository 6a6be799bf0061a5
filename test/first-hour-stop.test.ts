// Stop keeps the steps since the last checkpoint (issue 15): stopping a training saves a
// checkpoint at the current step by default and says how many steps that kept; checkpoint: false
// stops without one; other job kinds stop as before. Through the real workbench and train worker.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { TrainConfigInput } from '../src/shared/config/train'
import type { Job, TrainParams } from '../src/shared/jobs'
import { PAUSED_LOG_LINE } from '../src/core/job-context'
import type { Workbench } from '../src/main/services/workbench'
import { waitFor } from './helpers'
import { closeWorkbenches, openWorkbench } from './workbench-fixture'

afterEach(closeWorkbenches)

const long: TrainConfigInput = {
  model: { nLayer: 1, nHead: 2, nEmbd: 32, nCtx: 16 },
  batchSize: 2,
  steps: 100_000,
  optimizer: { lr: 1e-3 },
  eval: { interval: 0 },
  checkpoint: { interval: 4, keepLast: 10 },
  backend: 'wasm',
  seed: 5
}

/** Starts a long training, lets it pass a checkpoint, pauses it off a checkpoint step and returns the step it holds at. */
async function trainAndHold(wb: Workbench): Promise<{ job: Job; runId: number; step: number }> {
  const reply = await wb.call('jobs.start', { kind: 'train', params: { config: long } as TrainParams })
  if (!reply.ok) throw new Error(reply.error.message)
  const job = reply.value
  const runId = wb.runs.byJob(job.id)!.id
  for (;;) {
    await waitFor(() => wb.runs.checkpoints(runId).length > 0, 60_000, 'a first checkpoint')
    const pauses = () => wb.jobs.logs(job.id).filter((l) => l.text === PAUSED_LOG_LINE).length
    const before = pauses()
    await wb.call('jobs.pause', { id: job.id })
    await waitFor(() => pauses() > before, 30_000, 'the pause to take hold')
    const step = wb.runs.metrics(runId).at(-1)!.step
    if (step % long.checkpoint!.interval! !== 0) return { job, runId, step }
    // held on a checkpoint step: nothing would be kept; go on a step or two
    await wb.call('jobs.resume', { id: job.id })
    await waitFor(() => wb.runs.metrics(runId).at(-1)!.step > step, 30_000, 'another step')
  }
}

describe('stop', () => {
  it('saves a checkpoint at the current step by default and says how many steps it kept', async () => {
    const wb = openWorkbench()
    const { job, runId, step } = await trainAndHold(wb)
    const before = wb.runs.checkpoints(runId).map((c) => c.step)
    const last = Math.max(...before)
    expect(before).not.toContain(step)
    const stopped = await wb.call('jobs.cancel', { id: job.id })
    expect(stopped.ok).toBe(true)
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state).toBe('cancelled')
    expect(ended.progressText).toBe(`Stopped at step ${step}: saved a checkpoint there, keeping the ${step - last} step${step - last === 1 ? '' : 's'} since the checkpoint at step ${last}.`)
    const kept = wb.runs.checkpoints(runId).find((c) => c.step === step)
    expect(kept).toBeDefined()
    // a whole checkpoint, resumable: its trainer state is at that step
    const state = JSON.parse(fs.readFileSync(path.join(kept!.path, 'trainer_state.json'), 'utf8')) as { step: number }
    expect(state.step).toBe(step)
    const resumed = await wb.call('jobs.start', { kind: 'train', params: { resume: { runId, step } } })
    if (!resumed.ok) throw new Error(resumed.error.message)
    await waitFor(() => wb.jobs.logs(resumed.value.id).some((l) => l.text.includes(`Resuming from`) && l.text.includes(`at step ${step}.`)), 60_000, 'the resume to load')
    await wb.call('jobs.cancel', { id: resumed.value.id, checkpoint: false })
    await wb.supervisor.waitForExit(resumed.value.id)
  })

  it('stops without a checkpoint when asked (checkpoint: false)', async () => {
    const wb = openWorkbench()
    const { job, runId, step } = await trainAndHold(wb)
    const before = wb.runs.checkpoints(runId).map((c) => c.step)
    await wb.call('jobs.cancel', { id: job.id, checkpoint: false })
    const ended = await wb.supervisor.waitForExit(job.id)
    expect(ended.state).toBe('cancelled')
    expect(ended.progressText).not.toMatch(/^Stopped at/)
    expect(wb.runs.checkpoints(runId).map((c) => c.step)).toEqual(before)
    expect(before).not.toContain(step)
    expect(wb.jobs.logs(job.id).some((l) => l.text === 'Stop requested.')).toBe(true)
  })
})
