// Reading a file of prompts: JSONL (.jsonl / .json / .ndjson: one {"text"} per line, or
// "prompt" / "context", or a bare JSON string) or plain text (one prompt per line). Blank lines
// are skipped; a line that cannot be a prompt is reported by number and skipped.
import fs from 'node:fs'

export interface PromptLine {
  /** 1-based line number in the file. */
  line: number
  text: string
}

export interface BadLine {
  line: number
  reason: string
}

export interface PromptFile {
  format: 'jsonl' | 'text'
  prompts: PromptLine[]
  bad: BadLine[]
}

const JSONL = /\.(jsonl|json|ndjson)$/i
const FIELDS = ['text', 'prompt', 'context'] as const

export function readPromptFile(file: string): PromptFile {
  let bytes: Buffer
  try {
    bytes = fs.readFileSync(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(
      code === 'ENOENT'
        ? `Prompt file ${file} does not exist. Give a .txt file (one prompt per line) or a .jsonl file ({"text": ...} per line).`
        : `Prompt file ${file} cannot be read (${code ?? (err as Error).message}).`,
      { cause: err }
    )
  }
  const format = JSONL.test(file) ? 'jsonl' : 'text'
  const out: PromptFile = { format, prompts: [], bad: [] }
  const utf8 = new TextDecoder('utf-8', { fatal: true })
  let start = 0
  for (let n = 1; start <= bytes.length; n++) {
    let end = bytes.indexOf(0x0a, start)
    if (end < 0) end = bytes.length
    const raw = bytes.subarray(start, end)
    start = end + 1
    let line: string
    try {
      line = utf8.decode(raw).replace(/\r$/, '')
    } catch {
      out.bad.push({ line: n, reason: 'not valid UTF-8 text' })
      continue
    }
    if (!line.trim()) continue
    const parsed = format === 'jsonl' ? jsonPrompt(line) : { text: line }
    if ('reason' in parsed) out.bad.push({ line: n, reason: parsed.reason })
    else out.prompts.push({ line: n, text: parsed.text })
  }
  return out
}

function jsonPrompt(line: string): { text: string } | { reason: string } {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return { reason: `not valid JSON (${(err as Error).message})` }
  }
  if (typeof value === 'string') return { text: value }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { reason: 'not a JSON object or string' }
  for (const field of FIELDS) {
    const v = (value as Record<string, unknown>)[field]
    if (v === undefined) continue
    if (typeof v !== 'string') return { reason: `"${field}" is not a string` }
    return { text: v }
  }
  return { reason: `has no "text" field (nor "prompt" or "context")` }
}
