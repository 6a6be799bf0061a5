import { describe, expect, it } from 'vitest'
import { ApiError, ApiInputs, parseInput } from '../src/shared/api'
import { API_METHODS, groupMethods } from '../src/shared/api-methods'
import { MainMessage, WorkerMessage } from '../src/shared/protocol'

describe('API input schemas', () => {
  it('covers every method named in the method list, and nothing else', () => {
    expect(Object.keys(ApiInputs).sort()).toEqual([...API_METHODS].sort())
  })

  it('accepts a tokenize job and fills in the default validation share', () => {
    expect(parseInput('jobs.start', { kind: 'tokenize', params: { input: 'corpus.txt' } })).toEqual({
      kind: 'tokenize',
      params: { input: 'corpus.txt', valFraction: 0 }
    })
  })

  it.each([
    [{ kind: 'tokenize', params: {} }, /params\.input/],
    [{ kind: 'tokenize', params: { input: 'a', valFraction: 0.9 } }, /params\.valFraction/],
    [{ kind: 'tokenize', params: { input: 'a', shell: 'rm -rf /' } }, /shell/],
    [{ kind: 'format-disk', params: {} }, /kind/],
    ['not an object', /jobs\.start/]
  ])('rejects a bad job spec %j naming the field', (input, message) => {
    expect(() => parseInput('jobs.start', input)).toThrow(message)
    try {
      parseInput('jobs.start', input)
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError)
      expect((err as ApiError).code).toBe('bad_input')
    }
  })

  it('checks ids are positive integers', () => {
    expect(parseInput('jobs.cancel', { id: 3 })).toEqual({ id: 3 })
    expect(() => parseInput('jobs.cancel', { id: '3' })).toThrow(/id/)
    expect(() => parseInput('jobs.cancel', { id: -1 })).toThrow(/id/)
    expect(() => parseInput('jobs.cancel', { id: 1.5 })).toThrow(/id/)
  })

  it('bounds list and log page sizes', () => {
    expect(parseInput('jobs.logs', { id: 1 })).toEqual({ id: 1, afterId: 0, limit: 1000 })
    expect(() => parseInput('jobs.logs', { id: 1, limit: 10_000_000 })).toThrow(/limit/)
    expect(() => parseInput('jobs.list', { limit: 0 })).toThrow(/limit/)
  })

  it('groups method names by domain for the preload', () => {
    expect(groupMethods(['jobs.start', 'jobs.cancel', 'app.info'])).toEqual({ jobs: ['start', 'cancel'], app: ['info'] })
  })
})

describe('worker protocol', () => {
  it('parses each worker message type', () => {
    expect(WorkerMessage.parse({ type: 'progress', done: 1, total: 2 })).toEqual({ type: 'progress', done: 1, total: 2, text: '' })
    expect(WorkerMessage.parse({ type: 'metric', step: 3, values: { loss: 2.5 } }).type).toBe('metric')
    expect(WorkerMessage.parse({ type: 'log', text: 'hi' })).toEqual({ type: 'log', level: 'info', text: 'hi' })
  })

  it('rejects malformed worker messages', () => {
    expect(WorkerMessage.safeParse({ type: 'progress', done: -1, total: 2 }).success).toBe(false)
    expect(WorkerMessage.safeParse({ type: 'metric', step: 1, values: { loss: 'high' } }).success).toBe(false)
    expect(WorkerMessage.safeParse({ type: 'telemetry' }).success).toBe(false)
  })

  it('accepts only known control messages from main', () => {
    expect(MainMessage.parse({ type: 'pause' })).toEqual({ type: 'pause' })
    expect(MainMessage.safeParse({ type: 'exec', code: 'x' }).success).toBe(false)
  })
})
