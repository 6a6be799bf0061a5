// The Generate view's command preview with the engine choice (issue 18): PyTorch adds --engine,
// --device and (unless auto) --dtype, each a flag gptw generate parses back to the same values;
// the embedded engine, the CLI's default, adds none.
import { parseArgs } from 'node:util'
import { describe, expect, it } from 'vitest'
import { generateCommand } from '../src/shared/commands'
import { SamplingParams } from '../src/shared/generate'
import { OPTIONS as GENERATE_OPTIONS } from '../src/main/cli/generate'
import { COMMANDS } from '../src/main/cli/help'

const words = (command: string): string[] => command.split(' ')
const parse = (command: string) => parseArgs({ args: words(command).slice(2), options: GENERATE_OPTIONS }).values

describe('generate command with an engine', () => {
  const params = SamplingParams.parse({ maxNewTokens: 8 })

  it('PyTorch: --engine, --device and a dtype other than auto, all flags the CLI knows', () => {
    const cmd = generateCommand('/c', 'hi', params, { engine: 'pytorch', device: 'gpu:1', dtype: 'bfloat16' }).command
    expect(parse(cmd)).toMatchObject({ engine: 'pytorch', device: 'gpu:1', dtype: 'bfloat16', checkpoint: '/c', greedy: true })
    const known = new Set(COMMANDS.find((c) => c.name === 'generate')!.options.map((o) => o.name))
    expect(words(cmd).filter((w) => w.startsWith('--') && !known.has(w.slice(2)))).toEqual([])
    expect(parse(generateCommand('/c', 'hi', params, { engine: 'auto', device: 'cpu:0', dtype: 'auto' }).command)).toMatchObject({ engine: 'auto', device: 'cpu:0' })
    expect(parse(generateCommand('/c', 'hi', params, { engine: 'auto', device: 'cpu:0', dtype: 'auto' }).command).dtype).toBeUndefined()
  })

  it('the embedded engine adds nothing', () => {
    expect(generateCommand('/c', 'hi', params, { engine: 'embedded', device: 'cpu:0', dtype: 'float32' }).command).toBe(generateCommand('/c', 'hi', params).command)
  })
})
