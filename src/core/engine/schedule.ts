// Learning-rate schedules: linear warm-up, then cosine or linear decay to minLr, or constant.
// `linear` with minLr 0 is the seed's LinearWarmupLR (warm-up, then linear decay to 0 at the end).
export interface ScheduleSettings {
  lr: number
  minLr: number
  warmupSteps: number
  totalSteps: number
  decay: 'cosine' | 'linear' | 'constant'
}

export function learningRate(step: number, s: ScheduleSettings): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * (step + 1)) / s.warmupSteps
  if (s.decay === 'constant') return s.lr
  const span = Math.max(1, s.totalSteps - s.warmupSteps)
  const progress = Math.min(1, Math.max(0, (step - s.warmupSteps) / span))
  const shape = s.decay === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * progress)) : 1 - progress
  return s.minLr + (s.lr - s.minLr) * shape
}
