// Prepare jobs (the Webtext pipeline): sources checked and the dataset folder chosen before a
// worker starts, one job at a time per folder; a done job's token shards become a dataset.
import path from 'node:path'
import { ApiError } from '../../shared/api'
import type { PrepareParams } from '../../shared/config/prepare'
import type { Job } from '../../shared/jobs'
import type { JobSupervisor } from './jobs/supervisor'
import { resolvePrepareParams } from './prepared-datasets'
import type { JobsRepo } from './store/jobs-repo'
import type { TokenizeService } from './tokenize'
import type { Workspace } from './workspace'

export class PrepareService {
  constructor(
    private readonly workspace: Workspace,
    private readonly jobs: JobsRepo,
    private readonly supervisor: JobSupervisor,
    private readonly tokenize: TokenizeService
  ) {}

  start(params: PrepareParams): Job {
    const resolved = resolvePrepareParams(params, this.workspace.datasetsDir)
    const busy = this.jobs.active().find((j) => j.kind === 'prepare' && (j.params as { datasetDir?: string }).datasetDir === resolved.datasetDir)
    if (busy) throw new ApiError('conflict', `Job ${busy.id} is already preparing ${resolved.datasetDir}. Wait for it, or cancel it first.`)
    return this.supervisor.start({ kind: 'prepare', params: resolved })
  }

  /** A done prepare job's token shards (when it tokenized) as a dataset named after its config. */
  finished(job: Job): void {
    const tokensDir = (job.result as { tokensDir?: string | null } | null)?.tokensDir
    if (!tokensDir) return
    const name = (job.params as { config?: { name?: string } }).config?.name ?? path.basename(path.dirname(tokensDir))
    this.tokenize.recordDataset(tokensDir, name, job.id)
  }
}
