// The seed's batch modes: unconditional (N samples from end-of-text) and input-file (one output
// per prompt). Each writes JSONL as it goes, one line per sample with the seed's fields (context,
// text, length, finished, message, duration_seconds) and the parameters used, the seed included,
// so any one line can be made again on its own. Sample i is drawn with seed + i, whichever
// generator makes it: given several (one per device, issue 18), each takes the next sample as it
// frees up and the lines are still written in input order, the same file one device writes.
import fs from 'node:fs'
import type { GenerationResult, SamplingParams } from '../../shared/generate'
import { END_OF_TEXT } from '../data/gpt2-tokenizer'
import { Generator, type ModelShape } from './generator'
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

/** A generator and the device it decodes on; several spread a batch's samples between them. */
export interface DeviceGenerator {
  device: string
  generator: Generator<ModelShape>
}

export interface ModeSummary {
  outputFile: string
  written: number
  skipped: { line: number; reason: string }[]
  tokens: number
  seconds: number
  /** With several devices: the samples and tokens each one made. */
  devices?: { device: string; samples: number; tokens: number }[]
}

export interface OutputLine extends Omit<GenerationResult, 'stopReason' | 'promptTokens'> {
  stop_reason: GenerationResult['stopReason']
  line?: number
  parameters: SamplingParams
}

/** One generator, or one per device. */
export type BatchGenerators = Generator<ModelShape> | readonly DeviceGenerator[]

/** Makes sample i on `generator`, writes its line (or none) and returns its token count. `spread`: several devices run samples at once; `cut` says when one in progress should end. */
type Sample = (i: number, generator: Generator<ModelShape>, write: (line: OutputLine) => void, spread: { cut(): boolean } | null) => Promise<number>

export async function generateUnconditional(generators: BatchGenerators, params: SamplingParams, numSamples: number, outputFile: string, hooks: ModeHooks = {}): Promise<ModeSummary> {
  const vocab = firstGenerator(generators).model.config.vocabSize
  // A GPT-2 vocabulary starts documents with end-of-text; another starts from its last token.
  const start = vocab > END_OF_TEXT ? END_OF_TEXT : vocab - 1
  return writeSamples(outputFile, numSamples, hooks, generators, async (i, generator, out, spread) => {
    const p = { ...params, seed: (params.seed + i) >>> 0 }
    const result = await generator.generate({ ids: [start] }, p, { onText: (d) => hooks.onText?.(i, d), shouldStop: spread?.cut })
    out({ ...toLine(result, p), context: '' })
    return result.length
  })
}

export async function generateFromFile(generators: BatchGenerators, params: SamplingParams, inputFile: string, outputFile: string, hooks: ModeHooks = {}): Promise<ModeSummary> {
  const file = readPromptFile(inputFile)
  const skipped = [...file.bad]
  for (const b of file.bad) hooks.log?.(`${inputFile} line ${b.line}: ${b.reason}; skipped.`, 'warn')
  const summary = await writeSamples(outputFile, file.prompts.length, hooks, generators, async (i, generator, out, spread) => {
    const { line, text } = file.prompts[i]
    const p = { ...params, seed: (params.seed + i) >>> 0 }
    const skip = (reason: string): number => {
      skipped.push({ line, reason })
      hooks.log?.(`${inputFile} line ${line}: ${reason}; skipped.`, 'warn')
      return 0
    }
    if (spread) {
      // The prompt is checked first, so a failure while generating is the device's: it ends the run.
      try {
        generator.promptIds({ text })
      } catch (err) {
        return skip((err as Error).message)
      }
    }
    try {
      const result = await generator.generate({ text }, p, { onText: (d) => hooks.onText?.(i, d), shouldStop: spread?.cut })
      out({ ...toLine(result, p), line })
      return result.length
    } catch (err) {
      if (spread) throw err
      return skip((err as Error).message)
    }
  })
  return { ...summary, skipped: skipped.sort((a, b) => a.line - b.line) }
}

function firstGenerator(g: BatchGenerators): Generator<ModelShape> {
  if (g instanceof Generator) return g
  if (!g.length) throw new Error('The batch modes need at least one generator.')
  return g[0].generator
}

function toLine(r: GenerationResult, parameters: SamplingParams): OutputLine {
  return { context: r.context, text: r.text, length: r.length, finished: r.finished, message: r.message, duration_seconds: r.duration_seconds, stop_reason: r.stopReason, parameters }
}

async function writeSamples(outputFile: string, total: number, hooks: ModeHooks, generators: BatchGenerators, one: Sample): Promise<ModeSummary> {
  const started = performance.now()
  let fd: number
  try {
    fd = fs.openSync(outputFile, 'w')
  } catch (err) {
    throw new Error(`Cannot write the output file ${outputFile} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}). Choose a writable path.`, { cause: err })
  }
  const rate = (tokens: number): string => (tokens / Math.max((performance.now() - started) / 1000, 1e-9)).toFixed(1)
  try {
    if (generators instanceof Generator || generators.length === 1) {
      const generator = firstGenerator(generators)
      let written = 0
      let tokens = 0
      for (let i = 0; i < total; i++) {
        await hooks.between?.()
        if (hooks.shouldStop?.()) break
        tokens += await one(
          i,
          generator,
          (line) => {
            fs.writeSync(fd, JSON.stringify(line) + '\n')
            written++
          },
          null
        )
        hooks.progress?.(i + 1, total, `${i + 1} of ${total} samples, ${tokens} tokens, ${rate(tokens)} tokens/s`)
      }
      return { outputFile, written, skipped: [], tokens, seconds: (performance.now() - started) / 1000 }
    }
    return await spreadSamples(fd, outputFile, total, hooks, generators, one, rate, started)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * Samples over several devices: each takes the next index when it is free; a finished sample's
 * line waits until those before it are written. A stop (shouldStop) lets the samples under way
 * finish, so the file ends at a whole prefix; a cancel (between throws) cuts them and writes none
 * of them; a device that fails stops the others taking more, the ones under way finish, and the
 * run fails naming the device, with the lines before the failed sample kept.
 */
async function spreadSamples(
  fd: number,
  outputFile: string,
  total: number,
  hooks: ModeHooks,
  lanes: readonly DeviceGenerator[],
  one: Sample,
  rate: (tokens: number) => string,
  started: number
): Promise<ModeSummary> {
  const ready = new Map<number, OutputLine[]>()
  const devices = lanes.map((l) => ({ device: l.device, samples: 0, tokens: 0 }))
  let next = 0
  let flushed = 0
  let written = 0
  let done = 0
  let tokens = 0
  // set inside the lanes (the casts keep TS from narrowing them to null out here)
  let cancelled = null as { error: unknown } | null
  let failed = null as { device: string; index: number; error: Error } | null
  const cut = (): boolean => cancelled !== null
  // the earliest failed sample is the one named: the lines before it are all written
  const fail = (f: { device: string; index: number; error: Error }): void => {
    if (!failed || f.index < failed.index) failed = f
  }
  const flush = (): void => {
    for (let lines = ready.get(flushed); lines; lines = ready.get(flushed)) {
      for (const line of lines) fs.writeSync(fd, JSON.stringify(line) + '\n')
      written += lines.length
      ready.delete(flushed++)
    }
  }
  const lane = async (k: number): Promise<void> => {
    for (;;) {
      if (cancelled || failed) return
      try {
        await hooks.between?.()
      } catch (error) {
        cancelled ??= { error }
        return
      }
      if (cancelled || failed || hooks.shouldStop?.() || next >= total) return
      const i = next++
      const lines: OutputLine[] = []
      let n: number
      try {
        n = await one(i, lanes[k].generator, (line) => lines.push(line), { cut })
      } catch (err) {
        fail({ device: lanes[k].device, index: i, error: err as Error })
        return
      }
      if (cancelled) return // cut short: not the sample its seed makes
      ready.set(i, lines)
      flush()
      devices[k].samples++
      devices[k].tokens += n
      tokens += n
      done++
      hooks.progress?.(done, total, `${done} of ${total} samples on ${lanes.length} devices, ${tokens} tokens, ${rate(tokens)} tokens/s`)
    }
  }
  await Promise.all(lanes.map((_, k) => lane(k)))
  if (cancelled) throw cancelled.error
  if (failed) {
    throw new Error(
      `Generation on ${failed.device} failed at sample ${failed.index + 1} of ${total}: ${failed.error.message}. ${outputFile} keeps the ${written} line(s) before it; leave ${failed.device} out of the devices or fix it, and run again.`,
      { cause: failed.error }
    )
  }
  return { outputFile, written, skipped: [], tokens, seconds: (performance.now() - started) / 1000, devices }
}
