// Rank 0's step line, as every PyTorch launcher relays it (local torchrun, SSH, Slurm): its numeric
// fields become the step's metrics, its `devices` list (every rank's memory and step time) the
// per-device metrics (rssMb@1, ...), and the progress line is the embedded engine's, ending with the
// devices' spread on a run of several processes.
import { deviceMetrics, deviceSpread, parseDevices } from '../../../shared/device-figures'
import type { JobContext } from '../../job-context'

interface StepLine {
  type: 'step'
  step: number
  loss: number
  lr: number
  gradNorm: number
  tokensPerSec: number
  elapsed: number
  valLoss?: number
}

/** Relays one `{"type": "step", ...}` record; `where` (e.g. "Slurm job 12") goes on the progress line. */
export function relayStep(r: Record<string, unknown>, totalSteps: number, ctx: Pick<JobContext, 'metric' | 'progress'>, where?: string): void {
  const s = r as unknown as StepLine
  const values = Object.fromEntries(Object.entries(r).filter(([k, v]) => k !== 'type' && k !== 'step' && typeof v === 'number' && Number.isFinite(v))) as Record<string, number>
  // Every rank's own figures, stored as the embedded engine's train job stores its workers' (one process: its top-level figures say it all).
  const devices = parseDevices(r.devices)
  ctx.metric(s.step, { ...values, ...(devices.length > 1 ? deviceMetrics(devices) : {}) })
  ctx.progress(s.step, totalSteps, progressText(s, totalSteps, [deviceSpread(devices), where]))
}

/** The embedded engine's progress line (trainer.ts progressLine), without loading tfjs here, then the extras given. */
function progressText(s: StepLine, total: number, extras: (string | null | undefined)[]): string {
  const val = s.valLoss !== undefined ? ` | val ${s.valLoss.toFixed(4)}` : ''
  const eta = s.step < total && s.elapsed > 0 ? ` | eta ${Math.round(((total - s.step) * s.elapsed) / s.step)}s` : ''
  const tail = extras.filter((e): e is string => Boolean(e)).map((e) => ` | ${e}`)
  return `step ${s.step}/${total} | loss ${s.loss.toFixed(4)}${val} | lr ${s.lr.toExponential(2)} | norm ${s.gradNorm.toFixed(2)} | tok/s ${s.tokensPerSec.toFixed(0)}${eta}${tail.join('')}`
}
