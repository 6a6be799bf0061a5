// Published numbers for GPT-2 small (124M) that the Evaluate view shows beside a checkpoint's.
// Only values measured the way this evaluator measures them (lm-evaluation-harness prompts and
// metrics, zero-shot) belong here, each with where it was published. The GPT-2 paper's own
// LAMBADA figures (ppl 35.13, acc 45.99%) used OpenAI's preprocessing and are not comparable.

export interface ReferenceValue {
  value: number
  stderr: number | null
  numFewshot: number
  /** Who measured it, with what. */
  source: string
  url: string
}

export const REFERENCE_MODEL = 'GPT-2 small (124M)'

const HARNESS_ISSUE_2159 = {
  source: 'lm-evaluation-harness on Hugging Face gpt2, task lambada_openai (the same OpenAI LAMBADA file), zero-shot; EleutherAI/lm-evaluation-harness issue #2159',
  url: 'https://github.com/EleutherAI/lm-evaluation-harness/issues/2159'
}

/** task -> metric -> value */
export const GPT2_SMALL_REFERENCE: Readonly<Record<string, Readonly<Record<string, ReferenceValue>>>> = {
  lambada: {
    acc: { value: 0.3256, stderr: 0.0065, numFewshot: 0, ...HARNESS_ISSUE_2159 },
    ppl: { value: 40.0554, stderr: 1.4787, numFewshot: 0, ...HARNESS_ISSUE_2159 }
  }
}

export function referenceFor(task: string, metric: string, numFewshot: number): ReferenceValue | null {
  const ref = GPT2_SMALL_REFERENCE[task]?.[metric]
  return ref && ref.numFewshot === numFewshot ? ref : null
}
