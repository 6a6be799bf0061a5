// The Train view's launcher settings: an SSH hosts list read from text (errors name the line) and
// written back, and the launch preview built from a config's launcher: the per-host torchrun lines
// of an SSH launch (ranks in order, rendezvous at the first host) and an sbatch script bash accepts.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { LauncherConfig } from '../src/shared/config/train'
import { hostsText, launchPreview, parseHostsText } from '../src/shared/launcher-text'

describe('hosts text', () => {
  it('reads HOST GPUS WORKDIR lines, skips comments and blanks, and writes them back', () => {
    const parsed = parseHostsText('# the lab\nalice@gpu1.lab 8 /scratch/gptw\n\ngpu2.lab /scratch/gptw   # CPU only\n')
    expect(parsed.errors).toEqual([])
    expect(parsed.hosts).toEqual([
      { host: 'alice@gpu1.lab', gpus: 8, workDir: '/scratch/gptw' },
      { host: 'gpu2.lab', gpus: 0, workDir: '/scratch/gptw' }
    ])
    expect(parseHostsText(hostsText(parsed.hosts)).hosts).toEqual(parsed.hosts)
  })

  it('names each line it cannot read and why', () => {
    const parsed = parseHostsText('gpu1 8\ngpu2 eight /w\ngpu3 2 relative/dir\ngpu4 1 /w extra\ngpu5 1 /ok')
    expect(parsed.hosts.map((h) => h.host)).toEqual(['gpu5'])
    expect(parsed.errors).toEqual([
      'line 1: WORKDIR must be an absolute folder on gpu1, got "8"',
      'line 2: GPUS must be a whole number from 0 to 64, got "eight"',
      'line 3: WORKDIR must be an absolute folder on gpu3, got "relative/dir"',
      'line 4 ("gpu4 1 /w extra"): write HOST GPUS WORKDIR, e.g. gpu1.lab 8 /scratch/gptw'
    ])
  })
})

describe('launch preview', () => {
  const base = { devices: ['gpu:0'], python: '/usr/bin/python3', datasetDir: '/data/webtext' }

  it('shows one torchrun line per SSH host, node ranks in order, rendezvous at the first host', () => {
    const launcher = LauncherConfig.parse({ kind: 'ssh', hosts: parseHostsText('alice@gpu1.lab 8 /scratch/a\ngpu2.lab 4 /scratch/b').hosts, rdzvPort: 29600 })
    const text = launchPreview({ ...base, launcher })
    const blocks = text.split('\n\n')
    expect(blocks).toHaveLength(2)
    expect(blocks[0]).toMatch(/^# on alice@gpu1\.lab \(node 0 of 2\), in \/scratch\/a\n/)
    expect(blocks[0]).toContain('--nnodes 2 --node_rank 0 --nproc_per_node 8 --rdzv_backend static --rdzv_endpoint gpu1.lab:29600')
    expect(blocks[1]).toContain('--nnodes 2 --node_rank 1 --nproc_per_node 4 --rdzv_backend static --rdzv_endpoint gpu1.lab:29600')
    expect(text).toContain('--dataset /data/webtext')
  })

  it('shows the sbatch script of a Slurm launch, which bash parses', () => {
    const launcher = LauncherConfig.parse({ kind: 'slurm', nodes: 2, gpusPerNode: 4, time: '02:00:00', partition: 'gpu' })
    const script = launchPreview({ ...base, launcher })
    expect(script).toContain('#SBATCH --nodes=2')
    expect(script).toContain('#SBATCH --gpus-per-node=4')
    expect(script).toContain('#SBATCH --partition=gpu')
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' })
    expect(check.status, check.stderr).toBe(0)
  })

  it('shows the local torchrun line over the picked devices', () => {
    expect(launchPreview({ ...base, devices: ['cpu:0', 'cpu:1'], launcher: { kind: 'local' } })).toMatch(
      /-m torch\.distributed\.run --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127\.0\.0\.1:0 --rdzv_id gptw-local --nproc_per_node 2 .* --device cpu$/
    )
  })
})
