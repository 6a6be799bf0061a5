// Multiple-choice QA sets on Hugging Face (MultipleChoiceTask: acc and acc_norm): piqa, prost,
// arc_challenge, hellaswag, openbookqa, headqa, mathqa.
import type { HfDataset } from '../data/sources'
import { hfLoader, int, pyCapitalize, record, str, strings, type MCDoc, multipleChoiceTask } from './common'
import type { Task } from './types'

const hf = (repo: string, config: string, harnessName: string): HfDataset => ({ repo, config, harnessName })

export const piqa = multipleChoiceTask<MCDoc>({
  name: 'piqa',
  version: 0,
  family: 'piqa',
  source: 'HF piqa',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('piqa', hf('ybisk/piqa', 'plain_text', 'piqa'), { train: 'train', validation: 'validation' }, (r, w) => ({
    query: `Question: ${str(r, 'goal', w)}\nAnswer:`,
    choices: [str(r, 'sol1', w), str(r, 'sol2', w)],
    gold: int(r, 'label', w)
  }))
})

export const prost = multipleChoiceTask<MCDoc>({
  name: 'prost',
  version: 0,
  family: 'prost',
  source: 'HF corypaik/prost (zero-shot only)',
  splits: { test: true },
  zeroShotOnly: true,
  loadDocs: hfLoader('prost', hf('corypaik/prost', 'default', 'corypaik/prost'), { test: 'test' }, (r, w) => ({
    query: `${str(r, 'context', w)}\nQuestion: ${str(r, 'ex_question', w)}\nAnswer:`,
    choices: [str(r, 'A', w), str(r, 'B', w), str(r, 'C', w), str(r, 'D', w)],
    gold: int(r, 'label', w)
  }))
})

const LETTERS = ['A', 'B', 'C', 'D', 'E']
export const arcChallenge = multipleChoiceTask<MCDoc>({
  name: 'arc_challenge',
  version: 0,
  family: 'arc',
  source: 'HF ai2_arc/ARC-Challenge',
  splits: { train: true, validation: true, test: true },
  loadDocs: hfLoader('arc_challenge', hf('allenai/ai2_arc', 'ARC-Challenge', 'ai2_arc/ARC-Challenge'), { train: 'train', validation: 'validation', test: 'test' }, (r, w) => {
    // a few answer keys are 1-5 instead of A-E
    const key = ({ '1': 'A', '2': 'B', '3': 'C', '4': 'D', '5': 'E' } as Record<string, string>)[str(r, 'answerKey', w)] ?? str(r, 'answerKey', w)
    return { query: `Question: ${str(r, 'question', w)}\nAnswer:`, choices: strings(record(r, 'choices', w), 'text', w), gold: LETTERS.indexOf(key) }
  })
})

/** HellaSwag's cleanup of WikiHow artefacts. */
export function hellaswagPreprocess(text: string): string {
  return text
    .trim()
    .replaceAll(' [title]', '. ')
    .replace(/\[.*?\]/g, '')
    .replaceAll('  ', ' ')
}
export const hellaswag = multipleChoiceTask<MCDoc>({
  name: 'hellaswag',
  version: 0,
  family: 'hellaswag',
  source: 'HF hellaswag',
  splits: { train: true, validation: true },
  loadDocs: hfLoader('hellaswag', hf('Rowan/hellaswag', 'default', 'hellaswag'), { train: 'train', validation: 'validation' }, (r, w) => {
    const ctx = `${str(r, 'ctx_a', w)} ${pyCapitalize(str(r, 'ctx_b', w))}`
    return { query: hellaswagPreprocess(`${str(r, 'activity_label', w)}: ${ctx}`), choices: strings(r, 'endings', w).map(hellaswagPreprocess), gold: int(r, 'label', w) }
  })
})

export const openbookqa = multipleChoiceTask<MCDoc>({
  name: 'openbookqa',
  version: 0,
  family: 'openbookqa',
  source: 'HF openbookqa/main',
  splits: { train: true, validation: true, test: true },
  loadDocs: hfLoader('openbookqa', hf('allenai/openbookqa', 'main', 'openbookqa/main'), { train: 'train', validation: 'validation', test: 'test' }, (r, w) => ({
    query: str(r, 'question_stem', w),
    choices: strings(record(r, 'choices', w), 'text', w),
    gold: ['A', 'B', 'C', 'D'].indexOf(str(r, 'answerKey', w).trim())
  }))
})

export const headqa = multipleChoiceTask<MCDoc>({
  name: 'headqa',
  version: 0,
  family: 'headqa',
  source: "HF head_qa/es (Spanish; the harness's deprecated alias)",
  splits: { train: true, validation: true, test: true },
  loadDocs: hfLoader('headqa', hf('dvilares/head_qa', 'es', 'head_qa/es'), { train: 'train', validation: 'validation', test: 'test' }, (r, w) => {
    const answers = r.answers
    if (!Array.isArray(answers)) throw new Error(`${w}: field "answers" is not a list`)
    return { query: `Question: ${str(r, 'qtext', w)}\nAnswer:`, choices: answers.map((a) => str(a as Record<string, unknown>, 'atext', w)), gold: int(r, 'ra', w) - 1 }
  })
})

/** MathQA's options string "a ) 38 , b ) 27.675 , ..." split into its five texts. */
export function mathqaChoices(options: string): string[] {
  return [...options.matchAll(/[abcd] \) .*?, |e \) .*?$/g)].map((m) => m[0].slice(4).replace(/[ ,]+$/, ''))
}
export const mathqa = multipleChoiceTask<MCDoc>({
  name: 'mathqa',
  version: 0,
  family: 'mathqa',
  source: 'HF math_qa',
  splits: { train: true, validation: true, test: true },
  loadDocs: hfLoader('mathqa', hf('allenai/math_qa', 'default', 'math_qa'), { train: 'train', validation: 'validation', test: 'test' }, (r, w) => ({
    query: `Question: ${str(r, 'Problem', w)}\nAnswer:`,
    choices: mathqaChoices(str(r, 'options', w)),
    gold: ['a', 'b', 'c', 'd', 'e'].indexOf(str(r, 'correct', w))
  }))
})

export const qaTasks: Task[] = [piqa, prost, arcChallenge, hellaswag, openbookqa, headqa, mathqa] as Task[]
