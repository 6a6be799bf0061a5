// Streaming text from token ids: whole characters only, and stop sequences never shown.
import { describe, expect, it } from 'vitest'
import { encodeText } from '../../src/core/data/gpt2-tokenizer'
import { TextStream } from '../../src/core/generate/text-stream'
import { decodeTokens } from '../../src/core/data/gpt2-tokenizer'

function streamAll(text: string, stops: string[] = []) {
  const s = new TextStream(stops)
  const deltas: string[] = []
  let stoppedAt: string | null = null
  for (const id of encodeText(text)) {
    const step = s.push(id)
    deltas.push(step.delta)
    if (step.stoppedAt !== null) {
      stoppedAt = step.stoppedAt
      break
    }
  }
  if (stoppedAt === null) deltas.push(s.flush())
  return { deltas, stoppedAt }
}

describe('TextStream', () => {
  it('never shows half a character when a character spans tokens', () => {
    for (const text of ['🙂 hi', '日本語のテキスト', 'naïve café ☕ done']) {
      const ids = encodeText(text)
      expect(
        ids.some((id) => decodeTokens([id]).includes('\uFFFD')),
        `${text} splits a character`
      ).toBe(true)
      const { deltas } = streamAll(text)
      expect(deltas.join('')).toBe(text)
      for (const d of deltas) expect(d).not.toContain('\uFFFD')
    }
  })

  it('decodes each call on its own: a call ending inside a character leaves nothing behind', () => {
    const ids = encodeText('🙂 hi')
    expect(decodeTokens(ids.slice(0, 1))).toBe('\uFFFD')
    expect(decodeTokens(ids)).toBe('🙂 hi')
    expect(decodeTokens([50256])).toBe('<|endoftext|>')
  })

  it('cuts the text before a stop sequence and never streams any of it', () => {
    const { deltas, stoppedAt } = streamAll('Hello there\n\nUser: and more', ['\n\nUser:'])
    expect(stoppedAt).toBe('Hello there')
    expect(deltas.join('')).toBe('Hello there')
    expect(deltas.some((d) => d.includes('\n'))).toBe(false)
  })

  it('holds back a possible start of a stop sequence until it is clearly not one', () => {
    const s = new TextStream(['\n\nUser:'])
    const steps = encodeText('a\nb').map((id) => s.push(id).delta)
    expect(steps).toEqual(['a', '', '\nb'])
  })

  it('stops at the earliest of several stop sequences', () => {
    const { stoppedAt } = streamAll('one two. three! four', ['!', '.'])
    expect(stoppedAt).toBe('one two')
  })
})
