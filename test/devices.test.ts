import { describe, expect, it } from 'vitest'
import { discoverDevices, parseNvidiaSmi } from '../src/main/services/devices'

describe('device discovery', () => {
  it('parses nvidia-smi CSV output', () => {
    const out = '0, NVIDIA H200, 143771, 1024\n1, NVIDIA GeForce RTX 4090, 24564, 0\n'
    expect(parseNvidiaSmi(out)).toEqual([
      { kind: 'gpu', id: 'gpu:0', index: 0, name: 'NVIDIA H200', memoryTotalMiB: 143771, memoryUsedMiB: 1024 },
      { kind: 'gpu', id: 'gpu:1', index: 1, name: 'NVIDIA GeForce RTX 4090', memoryTotalMiB: 24564, memoryUsedMiB: 0 }
    ])
  })

  it('ignores lines that are not GPU rows', () => {
    expect(parseNvidiaSmi('No devices were found\n')).toEqual([])
    expect(parseNvidiaSmi('0, GPU, [N/A], [N/A]')).toEqual([])
  })

  it('always lists the CPU, and says why there is no GPU when nvidia-smi is missing', async () => {
    const report = await discoverDevices({ nvidiaSmi: '/nonexistent/nvidia-smi' })
    expect(report.devices).toHaveLength(1)
    expect(report.devices[0]).toMatchObject({ kind: 'cpu', id: 'cpu' })
    expect(report.devices[0].kind === 'cpu' && report.devices[0].cores).toBeGreaterThan(0)
    expect(report.gpuNote).toMatch(/nvidia-smi is not installed/)
  })
})
