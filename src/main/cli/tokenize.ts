// gptw tokenize: a text or loose-JSON file into GPT-2 token shards, in this process (no workspace
// job), with a progress line; the shards go beside the input unless --out names a folder.
import path from 'node:path'
import { parseArgs } from 'node:util'
import { tokenizeCorpus } from '../../core/data/tokenize'
import { inlineContext } from '../../core/job-context'
import { UsageError, numberFlag } from './args'
import { createProgressBar } from './progress-bar'

/** The flags parseArgs accepts; src/main/cli/help.ts describes each (test/cli-help.test.ts checks they agree). */
export const OPTIONS = { input: { type: 'string' }, out: { type: 'string' }, 'val-fraction': { type: 'string' }, json: { type: 'boolean' } } as const

export async function tokenize(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: OPTIONS })
  if (!values.input) throw new UsageError('tokenize needs --input FILE (.txt, .json or .jsonl).')
  const input = path.resolve(values.input)
  const outDir = path.resolve(values.out ?? path.join(path.dirname(input), path.basename(input).replace(/\.[^.]+$/, '') + '-tokens'))
  const bar = createProgressBar()
  const result = await tokenizeCorpus(
    { input, outDir, valFraction: numberFlag(values['val-fraction'], 'val-fraction', 0, 0, 0.5) },
    inlineContext(bar.update, (text) => console.error(text))
  )
  bar.done()
  console.log(
    values.json
      ? JSON.stringify(result)
      : `Wrote ${Object.entries(result.splits)
          .map(([s, v]) => `${s}: ${v.tokens} tokens`)
          .join(', ')} to ${outDir}`
  )
}
