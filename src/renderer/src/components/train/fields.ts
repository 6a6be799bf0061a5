// The form's fields: where each lives in the config, its label and unit, and a line of help.
// Ranges are not written here: the form reads them from the shared schema.
export interface FieldSpec {
  path: string
  label: string
  unit?: string
  help: string
  choices?: 'enum'
}

export const FIELD_GROUPS: { title: string; fields: FieldSpec[] }[] = [
  {
    title: 'Model',
    fields: [
      { path: 'model.nLayer', label: 'Layers', help: 'Transformer blocks.' },
      { path: 'model.nHead', label: 'Attention heads', help: 'Must divide the width.' },
      { path: 'model.nEmbd', label: 'Width', unit: 'dims', help: 'Embedding and residual width.' },
      { path: 'model.nCtx', label: 'Context', unit: 'tokens', help: 'Sequence length trained on (SEQ_LEN).' },
      { path: 'model.vocabSize', label: 'Vocabulary', unit: 'tokens', help: 'GPT-2 BPE is 50257; padded to a multiple of 64.' },
      { path: 'model.dropout', label: 'Dropout', unit: 'probability', help: '0 turns dropout off.' }
    ]
  },
  {
    title: 'Batch and length',
    fields: [
      { path: 'batchSize', label: 'Batch', unit: 'sequences / step', help: 'All devices and micro-batches together.' },
      { path: 'microBatches', label: 'Micro-batches', unit: 'per device', help: 'Gradient accumulation; must divide the per-device batch.' },
      { path: 'steps', label: 'Steps', unit: 'optimizer steps', help: 'Length of the run.' },
      { path: 'seed', label: 'Seed', help: 'Initial weights and batch order.' }
    ]
  },
  {
    title: 'Optimizer (AdamW)',
    fields: [
      { path: 'optimizer.lr', label: 'Learning rate', unit: 'peak', help: 'Reached after warm-up.' },
      { path: 'optimizer.minLr', label: 'Final learning rate', help: 'Where the decay ends; not above the peak.' },
      { path: 'optimizer.weightDecay', label: 'Weight decay', help: 'Decoupled, on matrices only.' },
      { path: 'optimizer.beta1', label: 'Beta 1', help: 'First-moment decay.' },
      { path: 'optimizer.beta2', label: 'Beta 2', help: 'Second-moment decay.' },
      { path: 'optimizer.eps', label: 'Epsilon', help: 'Added to the denominator.' },
      { path: 'optimizer.gradClip', label: 'Gradient clip', unit: 'global norm', help: '0 turns clipping off.' }
    ]
  },
  {
    title: 'Schedule, validation, checkpoints',
    fields: [
      { path: 'schedule.decay', label: 'Decay', help: 'Shape after warm-up.', choices: 'enum' },
      { path: 'schedule.warmupSteps', label: 'Warm-up', unit: 'steps', help: 'Linear rise to the peak.' },
      { path: 'eval.interval', label: 'Validation every', unit: 'steps', help: '0: never.' },
      { path: 'eval.batches', label: 'Validation batches', help: 'Batches averaged per validation.' },
      { path: 'checkpoint.interval', label: 'Checkpoint every', unit: 'steps', help: '0: only at the end.' },
      { path: 'checkpoint.keepLast', label: 'Keep last', unit: 'checkpoints', help: 'Older ones are deleted.' }
    ]
  }
]
