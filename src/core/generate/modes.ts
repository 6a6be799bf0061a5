// The seed's batch modes: unconditional (N samples from end-of-text) and input-file (one output
// per prompt). Each writes JSONL as it goes, one line per sample with the seed's fields (context,
// text, length, finished, message, duration_seconds) and the parameters used, the seed included,
// so any one line can be made again on its own. Sample i is drawn with seed + i.
import fs from 'node:fs'
import type { GenerationResult, SamplingParams } from '../../shared/generate'
import { END_OF_TEXT } from '../data/gpt2-tokenizer'
import type { Generator, ModelShape } from './generator'
import { readPromptFile } from './prompt-file'

export interface ModeHooks {
  log?(text: string, level?: 'info' | 'warn' | 'error'): void
  progress?(done: number, total: number, text: string): void
  /** Awaited between samples: may wait (pause) or throw (cancel). */
  between?(): Promise<void>
  /** Checked between samples: true ends the run early, keeping the lines written. */
  shouldStop?(): boolean
  /** Streams each sample's text as it is made. */
  onText?(index: number, delta: string): void
}

export interface ModeSummary {
  outputFile: string
  written: number
  skipped: { line: number; reason: string }[]
  tokens: number
  seconds: number
}

export interface OutputLine extends Omit<GenerationResult, 'stopReason' | 'promptTokens'> {
  stop_reason: GenerationResult['stopReason']
  line?: number
  parameters: SamplingParams
}

export async function generateUnconditional(generator: Generator<ModelShape>, params: SamplingParams, numSamples: number, outputFile: string, hooks: ModeHooks = {}): Promise<ModeSummary> {
  const vocab = generator.model.config.vocabSize
  // A GPT-2 vocabulary starts documents with end-of-text; another starts from its last token.
  const start = vocab > END_OF_TEXT ? END_OF_TEXT : vocab - 1
  return writeSamples(outputFile, numSamples, hooks, async (i, out) => {
    const p = { ...params, seed: (params.seed + i) >>> 0 }
    const result = await generator.generate({ ids: [start] }, p, { onText: (d) => hooks.onText?.(i, d) })
    out({ ...toLine(result, p), context: '' })
    return result.length
  })
}

export async function generateFromFile(generator: Generator<ModelShape>, params: SamplingParams, inputFile: string, outputFile: string, hooks: ModeHooks = {}): Promise<ModeSummary> {
  const file = readPromptFile(inputFile)
  const skipped = [...file.bad]
  for (const b of file.bad) hooks.log?.(`${inputFile} line ${b.line}: ${b.reason}; skipped.`, 'warn')
  const summary = await writeSamples(outputFile, file.prompts.length, hooks, async (i, out) => {
    const { line, text } = file.prompts[i]
    const p = { ...params, seed: (params.seed + i) >>> 0 }
    try {
      const result = await generator.generate({ text }, p, { onText: (d) => hooks.onText?.(i, d) })
      out({ ...toLine(result, p), line })
      return result.length
    } catch (err) {
      const reason = (err as Error).message
      skipped.push({ line, reason })
      hooks.log?.(`${inputFile} line ${line}: ${reason}; skipped.`, 'warn')
      return 0
    }
  })
  return { ...summary, skipped: skipped.sort((a, b) => a.line - b.line) }
}

function toLine(r: GenerationResult, parameters: SamplingParams): OutputLine {
  return { context: r.context, text: r.text, length: r.length, finished: r.finished, message: r.message, duration_seconds: r.duration_seconds, stop_reason: r.stopReason, parameters }
}

async function writeSamples(outputFile: string, total: number, hooks: ModeHooks, one: (i: number, write: (line: OutputLine) => void) => Promise<number>): Promise<ModeSummary> {
  const started = performance.now()
  let fd: number
  try {
    fd = fs.openSync(outputFile, 'w')
  } catch (err) {
    throw new Error(`Cannot write the output file ${outputFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Choose a writable path.`, { cause: err })
  }
  let written = 0
  let tokens = 0
  try {
    for (let i = 0; i < total; i++) {
      await hooks.between?.()
      if (hooks.shouldStop?.()) break
      tokens += await one(i, (line) => {
        fs.writeSync(fd, JSON.stringify(line) + '\n')
        written++
      })
      const seconds = (performance.now() - started) / 1000
      hooks.progress?.(i + 1, total, `${i + 1} of ${total} samples, ${tokens} tokens, ${(tokens / Math.max(seconds, 1e-9)).toFixed(1)} tokens/s`)
    }
  } finally {
    fs.closeSync(fd)
  }
  return { outputFile, written, skipped: [], tokens, seconds: (performance.now() - started) / 1000 }
}
