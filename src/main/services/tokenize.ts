// Tokenize jobs: checks the input exists and picks the output folder before a worker starts;
// when a tokenize (or prepare) job is done, its token shards become a dataset the Train view offers.
import fs from 'node:fs'
import path from 'node:path'
import { ApiError } from '../../shared/api'
import type { Job, TokenizeParams } from '../../shared/jobs'
import { readShardMeta } from '../../core/data/shards'
import type { JobSupervisor } from './jobs/supervisor'
import type { DatasetsRepo } from './store/datasets-repo'
import type { Workspace } from './workspace'

export class TokenizeService {
  constructor(
    private readonly workspace: Workspace,
    private readonly datasets: DatasetsRepo,
    private readonly supervisor: JobSupervisor
  ) {}

  start(params: TokenizeParams): Job {
    return this.supervisor.start({ kind: 'tokenize', params: this.resolve(params) })
  }

  /** A done tokenize job's shards as a dataset. */
  finished(job: Job): void {
    const { outDir, name } = job.params as { outDir: string; name?: string }
    this.recordDataset(outDir, name, job.id)
  }

  /** Registers the token shards in `outDir` as a dataset (named after its folder by default). */
  recordDataset(outDir: string, name: string | undefined, jobId: number): void {
    try {
      const meta = readShardMeta(outDir)
      this.datasets.upsert(name ?? path.basename(path.dirname(outDir)), outDir, { trainTokens: meta.splits.train?.tokens, valTokens: meta.splits.val?.tokens, source: meta.source }, jobId)
    } catch {
      /* the job's own log says what went wrong with its output */
    }
  }

  /** Checks what the caller named exists and fills in workspace defaults. */
  private resolve(params: TokenizeParams): TokenizeParams {
    const input = path.resolve(params.input)
    if (!fs.existsSync(input) || !fs.statSync(input).isFile()) {
      throw new ApiError('bad_input', `Input file ${input} does not exist. Give the path of a .txt, .json or .jsonl file.`)
    }
    const name = params.name ?? path.basename(input).replace(/\.[^.]+$/, '')
    const outDir = params.outDir ?? path.join(this.workspace.datasetsDir, `${slug(name)}-${Date.now().toString(36)}`, 'tokens')
    return { ...params, input, outDir: path.resolve(outDir), name }
  }
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'dataset'
  )
}
