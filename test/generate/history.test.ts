// Generation history in SQLite (the real schema, migrations applied): rows written at start and
// completed at the end, full-text search over prompts and outputs that takes any typed text, and
// generations left running by a stopped host marked failed.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { SamplingParams } from '../../src/shared/generate'
import { GenerationsRepo, ftsQuery } from '../../src/main/services/generation-repo'
import { openDatabase } from '../../src/main/services/store/database'
import { tempDir } from '../helpers'

const params = SamplingParams.parse({})
const finish = (text: string) => ({
  text,
  state: 'done' as const,
  stopReason: 'max-tokens' as const,
  tokens: 3,
  durationSeconds: 0.5,
  message: null,
  tokenInfo: [{ id: 1, piece: '"', prob: 0.5, top: [] }]
})

describe('generation history', () => {
  it('searches prompts and outputs by word prefixes, newest first, whatever the query holds', () => {
    const repo = new GenerationsRepo(openDatabase(path.join(tempDir(), 'h.db')))
    const a = repo.create('/ck/a', 'Call me Ishmael', params, null, null)
    repo.finish(a.id, finish('and the whale swam'))
    const b = repo.create('/ck/b', 'The sea', params, 'cmp-1', null)
    repo.finish(b.id, finish('a whaling ship'))
    const c = repo.create('/ck/a', 'Nothing here', params, null, null)
    expect(repo.list(undefined, 10).map((r) => r.id)).toEqual([c.id, b.id, a.id])
    expect(repo.list('whal', 10).map((r) => r.id)).toEqual([b.id, a.id])
    expect(repo.list('ishmael whale', 10).map((r) => r.id)).toEqual([a.id])
    expect(repo.list('sea', 10).map((r) => r.id)).toEqual([b.id])
    for (const odd of ['"', 'AND (', 'whale" OR "', '*', 'NEAR(']) expect(() => repo.list(odd, 10)).not.toThrow()
    expect(ftsQuery('  ')).toBeNull()
    const got = repo.get(a.id)!
    expect(got).toMatchObject({ state: 'done', text: 'and the whale swam', tokens: 3, stopReason: 'max-tokens', params })
    expect(got.tokenInfo).toHaveLength(1)
    expect(repo.list('whale', 10)[0].tokenInfo).toBeUndefined() // lists leave the per-token detail out
  })

  it('marks generations still running at start-up as failed, interrupted', () => {
    const file = path.join(tempDir(), 'h.db')
    const repo = new GenerationsRepo(openDatabase(file))
    const r = repo.create('/ck', 'p', params, null, null)
    const again = new GenerationsRepo(openDatabase(file))
    expect(again.markInterrupted()).toBe(1)
    expect(again.get(r.id)).toMatchObject({ state: 'failed', stopReason: 'error', message: expect.stringMatching(/Interrupted/) })
  })
})
