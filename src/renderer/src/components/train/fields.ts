// The form's fields: where each lives in the config, its label and unit, a line of help and an
// example. Ranges are not written here: the form reads them from the shared schema. Also the
// validator's problems in the form's words, each under the field that caused it, one per cause.
import { ref } from 'vue'

export interface FieldSpec {
  path: string
  label: string
  unit?: string
  help: string
  /** Shown as the placeholder where the schema has no default. */
  example?: string
  choices?: 'enum'
}

export const FIELD_GROUPS: { title: string; fields: FieldSpec[] }[] = [
  {
    title: 'Model',
    fields: [
      { path: 'model.nLayer', label: 'Layers', help: 'Transformer blocks.', example: '12' },
      { path: 'model.nHead', label: 'Attention heads', help: 'Must divide the width.', example: '12' },
      { path: 'model.nEmbd', label: 'Width', unit: 'dims', help: 'Embedding and residual width.', example: '768' },
      { path: 'model.nCtx', label: 'Context', unit: 'tokens', help: 'Sequence length trained on (SEQ_LEN).', example: '1024' },
      { path: 'model.vocabSize', label: 'Vocabulary', unit: 'tokens', help: 'GPT-2 BPE is 50257; padded to a multiple of 64.' },
      { path: 'model.dropout', label: 'Dropout', unit: 'probability', help: '0 turns dropout off.' }
    ]
  },
  {
    title: 'Batch and length',
    fields: [
      { path: 'batchSize', label: 'Batch', unit: 'sequences / step', help: 'All devices and micro-batches together.', example: '16' },
      { path: 'microBatches', label: 'Micro-batches', unit: 'per device', help: 'Gradient accumulation; must divide the per-device batch.' },
      { path: 'steps', label: 'Steps', unit: 'optimizer steps', help: 'Length of the run.', example: '400' },
      { path: 'seed', label: 'Seed', help: 'Initial weights and batch order.' }
    ]
  },
  {
    title: 'Optimizer (AdamW)',
    fields: [
      { path: 'optimizer.lr', label: 'Learning rate', unit: 'peak', help: 'Reached after warm-up.', example: '6e-4' },
      { path: 'optimizer.minLr', label: 'Final learning rate', help: 'Where the decay ends; not above the peak.' },
      { path: 'optimizer.weightDecay', label: 'Weight decay', help: 'Decoupled, on matrices only.' },
      { path: 'optimizer.beta1', label: 'Beta 1', help: 'First-moment decay.' },
      { path: 'optimizer.beta2', label: 'Beta 2', help: 'Second-moment decay.' },
      { path: 'optimizer.eps', label: 'Epsilon', help: 'Added to the denominator.' },
      { path: 'optimizer.gradClip', label: 'Gradient clip', unit: 'global norm', help: '0 turns clipping off.' },
      {
        path: 'sharding',
        label: 'Sharding',
        help: 'PyTorch engine: none; optimizer (ZeRO-1: AdamW state split over the processes); full (FSDP: everything split; CUDA, torch >= 2).',
        choices: 'enum'
      }
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

const LABELS: Record<string, string> = {
  ...Object.fromEntries(FIELD_GROUPS.flatMap((g) => g.fields.map((f) => [f.path, f.label]))),
  name: 'Run name',
  dataset: 'Dataset',
  devices: 'Devices',
  engine: 'Engine',
  backend: 'Backend',
  python: 'Python interpreter',
  init: 'Initial weights',
  launcher: 'Launcher',
  memoryCheck: 'Memory check',
  parallel: 'Parallelism',
  '(config)': 'The config'
}

/** A setting's name as the form shows it ("Learning rate"); a path the form does not show stays a path. */
export function labelOf(path: string): string {
  return LABELS[path] ?? path
}

/** The field last typed into: a rule between two fields is reported under the one just changed. */
export const lastEdited = ref<string | null>(null)

interface CrossRule {
  /** The path the schema reports the problem at. */
  at: string
  /** The fields the rule reads; the message moves to the last edited one. */
  fields: string[]
  /** Recognises the schema's message. */
  match: RegExp
  words: (values: (path: string) => unknown) => string
}

/** Rules between fields, in the form's words; each is dropped when one of its fields already has its own error. */
const CROSS_RULES: CrossRule[] = [
  {
    at: 'model.nEmbd',
    fields: ['model.nHead', 'model.nEmbd'],
    match: /divisible by nHead/,
    words: (v) => `Width ${String(v('model.nEmbd'))} must be divisible by Attention heads ${String(v('model.nHead'))}: each head gets an equal share of the width`
  },
  {
    at: 'optimizer.minLr',
    fields: ['optimizer.lr', 'optimizer.minLr'],
    match: /minLr is above lr/,
    words: (v) => `Final learning rate ${String(v('optimizer.minLr'))} is above the peak Learning rate ${String(v('optimizer.lr'))}`
  },
  {
    at: 'batchSize',
    fields: ['batchSize', 'microBatches', 'devices'],
    match: /must split evenly/,
    words: (v) => {
      const devices = Array.isArray(v('devices')) ? (v('devices') as unknown[]).length : 1
      const micro = Number(v('microBatches') ?? 1)
      return `Batch ${String(v('batchSize'))} must split evenly over ${devices} device${devices === 1 ? '' : 's'} × ${micro} micro-batch${micro === 1 ? '' : 'es'}`
    }
  }
]

export interface FieldIssue {
  /** The whole sentence, starting with the field's label. */
  text: string
  /** Whether the field's range is worth adding (a rule between fields is not about the range). */
  withRange: boolean
}

/**
 * The validator's problems (by dotted path, zod's words after issueMessage) as sentences under
 * the field that caused each: "Steps must be a number", a divisibility rule under Heads when Heads
 * was just changed, and no "above the peak" beside a learning rate that is itself invalid.
 */
export function formIssues(issues: Record<string, string>, values: (path: string) => unknown, edited: string | null): Record<string, FieldIssue> {
  const out: Record<string, FieldIssue> = {}
  for (const [path, joined] of Object.entries(issues)) {
    const messages = joined.split('; ')
    for (const message of messages) {
      const rule = CROSS_RULES.find((r) => r.at === path && r.match.test(message))
      if (!rule) {
        // issueMessage's phrases continue the label ("Steps must be ..."); a rule's own sentence follows a colon.
        add(out, path, { text: /^(must|is |needs|takes|has )/.test(message) ? `${labelOf(path)} ${message}` : `${labelOf(path)}: ${message}`, withRange: true })
        continue
      }
      // One cause, one error: when a field the rule reads has a problem of its own, that one is shown alone.
      if (messages.some((m) => !rule.match.test(m)) || rule.fields.some((f) => f !== path && issues[f] !== undefined)) continue
      const under = edited && edited !== 'devices' && rule.fields.includes(edited) ? edited : path
      add(out, under, { text: rule.words(values), withRange: false })
    }
  }
  return out
}

function add(out: Record<string, FieldIssue>, path: string, issue: FieldIssue): void {
  const had = out[path]
  out[path] = had ? { text: `${had.text}; ${issue.text}`, withRange: had.withRange && issue.withRange } : issue
}
