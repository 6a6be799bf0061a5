// The seed's batch modes on a GPT-2-vocabulary model: a prompt file (JSONL and text lines) gives
// one output line per good prompt with the seed's fields and the parameters used, bad lines are
// reported by number and skipped; unconditional mode writes N samples. Any line can be made again
// from its recorded parameters.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { initBackend } from '../../src/core/engine/backend'
import { GPT } from '../../src/core/engine/model'
import { Generator } from '../../src/core/generate/generator'
import { type OutputLine, generateFromFile, generateUnconditional } from '../../src/core/generate/modes'
import { readPromptFile } from '../../src/core/generate/prompt-file'
import { tempDir } from '../helpers'

let model: GPT
let generator: Generator
const dir = tempDir('gptw-genfile-')
const params = SamplingParams.parse({ maxNewTokens: 6, temperature: 1, topK: 40, seed: 100 })
const readJsonl = (file: string): OutputLine[] =>
  fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as OutputLine)

beforeAll(async () => {
  await initBackend('wasm')
  // An untrained GPT-2-vocabulary model: the modes' bookkeeping does not depend on what it learned.
  model = new GPT({ nLayer: 1, nHead: 2, nEmbd: 16, nCtx: 16, vocabSize: 50257, dropout: 0, layerNormEps: 1e-5 })
  generator = new Generator(model)
})
afterAll(() => {
  generator.dispose()
  model.dispose()
})

describe('input-file mode', () => {
  it('writes one output per good JSONL prompt, reports the bad lines and skips them', async () => {
    const input = path.join(dir, 'prompts.jsonl')
    fs.writeFileSync(input, ['{"text": "The sea was calm"}', '{not json', '', '{"prompt": "A ship appeared"}', '{"title": "no text"}', '"Call me Ishmael."', '{"text": 7}'].join('\n') + '\n')
    const logs: string[] = []
    const out = path.join(dir, 'prompts.output.jsonl')
    const summary = await generateFromFile(generator, params, input, out, { log: (t) => logs.push(t) })
    const lines = readJsonl(out)
    expect(lines.map((l) => l.context)).toEqual(['The sea was calm', 'A ship appeared', 'Call me Ishmael.'])
    expect(lines.map((l) => l.line)).toEqual([1, 4, 6])
    expect(summary.written).toBe(3)
    expect(summary.skipped.map((s) => s.line)).toEqual([2, 5, 7])
    expect(logs.join('\n')).toMatch(/prompts\.jsonl line 2: not valid JSON/)
    expect(logs.join('\n')).toMatch(/line 5: has no "text" field/)
    expect(logs.join('\n')).toMatch(/line 7: "text" is not a string; skipped/)
    for (const [i, l] of lines.entries()) {
      expect(Object.keys(l)).toEqual(expect.arrayContaining(['context', 'text', 'length', 'finished', 'message', 'duration_seconds', 'parameters']))
      expect(l.length).toBeGreaterThan(0)
      expect(l.length).toBeLessThanOrEqual(6)
      expect(l.finished).toBe(l.stop_reason === 'end-of-text')
      expect(l.duration_seconds).toBeGreaterThan(0)
      expect(l.parameters).toMatchObject({ maxNewTokens: 6, temperature: 1, topK: 40, seed: 100 + i })
    }
    // The second output made again on its own from what the file recorded.
    const again = await generator.generate({ text: lines[1].context }, lines[1].parameters)
    expect(again.text).toBe(lines[1].text)
  })

  it('reads text lines, one prompt per line, and skips a line that is not UTF-8', async () => {
    const input = path.join(dir, 'prompts.txt')
    fs.writeFileSync(input, Buffer.concat([Buffer.from('First prompt\r\n\nSecond prompt\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a]), Buffer.from('Third')]))
    const file = readPromptFile(input)
    expect(file.format).toBe('text')
    expect(file.prompts).toEqual([
      { line: 1, text: 'First prompt' },
      { line: 3, text: 'Second prompt' },
      { line: 5, text: 'Third' }
    ])
    expect(file.bad).toEqual([{ line: 4, reason: 'not valid UTF-8 text' }])
    const out = path.join(dir, 'prompts.txt.output.jsonl')
    await generateFromFile(generator, params, input, out)
    expect(readJsonl(out)).toHaveLength(3)
  })

  it('names a missing prompt file and an unwritable output', async () => {
    await expect(generateFromFile(generator, params, path.join(dir, 'nope.jsonl'), path.join(dir, 'x.jsonl'))).rejects.toThrow(/Prompt file .*nope\.jsonl does not exist/)
    const input = path.join(dir, 'one.txt')
    fs.writeFileSync(input, 'hello\n')
    await expect(generateFromFile(generator, params, input, path.join(dir, 'no-such-dir', 'out.jsonl'))).rejects.toThrow(/Cannot write the output file .*out\.jsonl/)
  })
})

describe('unconditional mode', () => {
  it('writes N samples from end-of-text with seeds seed, seed + 1, ...', async () => {
    const out = path.join(dir, 'samples.jsonl')
    const streamed: string[] = ['', '', '']
    const summary = await generateUnconditional(generator, params, 3, out, { onText: (i, d) => (streamed[i] += d) })
    const lines = readJsonl(out)
    expect(summary.written).toBe(3)
    expect(lines.map((l) => l.parameters.seed)).toEqual([100, 101, 102])
    expect(lines.every((l) => l.context === '')).toBe(true)
    expect(lines.map((l) => l.text)).toEqual(streamed)
    expect(new Set(lines.map((l) => l.text)).size).toBeGreaterThan(1)
  })
})
