// Issue 13, minor points outside the web host: token ids past the vocabulary are caught when the
// shard folder is opened (naming the shard, the id and its position) instead of at the first
// training step; tfjs's Node.js banner is no longer printed (it was the "last output" of failed
// workers); the desktop window policy denies permissions, navigation away, new windows and webviews.
import path from 'node:path'
import * as tf from '@tensorflow/tfjs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ShardWriter, readShard, readShardMeta, writeShardMeta } from '../src/core/data/shards'
import { initBackend } from '../src/core/engine/backend'
import { buildWindowPolicy } from '../src/main/window-policy'
import { tempDir } from './helpers'

function shardFolder(trainIds: number[]): string {
  const dir = tempDir('gptw-shards-')
  const splits: Record<string, { file: string; tokens: number; documents: number }> = {}
  for (const [split, ids] of Object.entries({ train: trainIds, val: [1, 2, 3] })) {
    const writer = new ShardWriter(path.join(dir, `${split}.bin`))
    writer.push(ids)
    writer.finish()
    splits[split] = { file: `${split}.bin`, tokens: ids.length, documents: 1 }
  }
  writeShardMeta(dir, { format: 'gptw-tokens-v1', tokenizer: 'gpt2', vocabSize: 50257, dtype: 'uint16', source: 'test', splits, createdAt: new Date().toISOString() })
  return dir
}

describe('token shards', () => {
  it('refuses ids past the vocabulary when the folder is opened, naming the shard, the id and where it is', () => {
    const dir = shardFolder([10, 20, 30, 60000, 40, 50256])
    const expected = new RegExp(`${path.join(dir, 'train.bin').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(train\\) holds id 60000 at token 3, past the vocabulary of 50257`)
    expect(() => readShardMeta(dir)).toThrow(expected)
    expect(() => readShard(dir, 'val')).toThrow(expected)
  })

  it('opens a folder whose ids are all inside the vocabulary', () => {
    const dir = shardFolder([0, 50256, 7])
    expect(readShardMeta(dir).vocabSize).toBe(50257)
    expect([...readShard(dir, 'train')]).toEqual([0, 50256, 7])
  })
})

describe('tfjs banner', () => {
  afterEach(() => vi.restoreAllMocks())

  it('is not printed when the cpu backend first holds a tensor', async () => {
    const warn = vi.spyOn(console, 'warn')
    await initBackend('cpu')
    tf.tensor1d([1, 2, 3]).dispose()
    expect(warn.mock.calls.map((c) => c.join(' ')).join('\n')).not.toMatch(/looks like you are running TensorFlow\.js in Node\.js/)
  })
})

describe('desktop window policy', () => {
  const policy = buildWindowPolicy()
  const own = 'file:///opt/gptw/out/renderer/index.html'

  it('denies every permission request and check', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal', 'fullscreen', 'hid', 'serial']) {
      let granted: boolean | undefined
      policy.onPermissionRequest(permission, (g) => (granted = g))
      expect(granted, permission).toBe(false)
      expect(policy.onPermissionCheck(permission)).toBe(false)
    }
  })

  it('lets frames navigate only to the app page, opens no window and attaches no webview', () => {
    expect(policy.allowNavigation(own)).toBe(true)
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'file:///tmp/renderer/index.html.evil', 'javascript:alert(1)', 'data:text/html,<p>x</p>', 'not a url'])
      expect(policy.allowNavigation(url), url).toBe(false)
    expect(policy.onWindowOpen('https://example.org/docs')).toEqual({ action: 'deny', openExternal: 'https://example.org/docs' })
    expect(policy.onWindowOpen('file:///etc/passwd')).toEqual({ action: 'deny' })
    expect(policy.allowWebview()).toBe(false)
    expect(policy.isOwnUrl(undefined)).toBe(false)
    const dev = buildWindowPolicy({ devServerUrl: 'http://localhost:5173' })
    expect(dev.allowNavigation('http://localhost:5173/')).toBe(true)
    expect(dev.allowNavigation('http://localhost:51730/')).toBe(false)
  })
})
