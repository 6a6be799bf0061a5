// The CPU threads each PyTorch model server gets by default (model-server.ts cpuServerThreads): the
// cores shared between the CPU servers, at least one each; GPU servers keep torch's default.
import { expect, it } from 'vitest'
import { cpuServerThreads } from '../../src/core/engine/pytorch/model-server'

it('CPU model servers share the cores, at least one thread each; GPU servers keep torch default', () => {
  expect(cpuServerThreads(['cpu:0'], 2)).toBe(2)
  expect(cpuServerThreads(['cpu:0', 'cpu:1'], 2)).toBe(1)
  expect(cpuServerThreads(['cpu:0', 'cpu:1', 'cpu:2'], 2)).toBe(1)
  expect(cpuServerThreads(['cpu:0', 'cpu:1'], 16)).toBe(8)
  expect(cpuServerThreads(['gpu:0', 'gpu:1'], 16)).toBe(0)
  expect(cpuServerThreads(['gpu:0', 'cpu:0'], 16)).toBe(16)
})
