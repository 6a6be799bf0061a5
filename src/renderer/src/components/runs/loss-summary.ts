// "loss 10.81 → 7.52 at step 40": the first and latest train loss, and the latest validation loss.
import type { Series } from '../../stores/runs'

export function lossSummary(series: Series | undefined): string {
  const loss = series?.loss
  if (!loss?.step.length) return 'no steps yet'
  const last = loss.step.length - 1
  const val = series?.valLoss
  const valText = val?.step.length ? `, validation ${val.value[val.value.length - 1].toFixed(3)} at step ${val.step[val.step.length - 1]}` : ''
  return `loss ${loss.value[0].toFixed(3)} → ${loss.value[last].toFixed(3)} at step ${loss.step[last]}${valText}`
}
