// The names of every API method, `domain.verb`. Kept free of zod so the preload bundle stays tiny.
export const API_METHODS = [
  'app.info',
  'devices.list',
  'jobs.list',
  'jobs.get',
  'jobs.logs',
  'jobs.start',
  'jobs.pause',
  'jobs.resume',
  'jobs.cancel',
  'samples.list',
  'presets.list',
  'datasets.list',
  'runs.list',
  'runs.get',
  'runs.metrics',
  'prepare.list',
  'prepare.get',
  'runs.series',
  'runs.batch',
  'runs.overlay',
  'configs.list',
  'configs.save',
  'configs.delete',
  'evals.tasks',
  'evals.results',
  'evals.samples',
  'evals.watch',
  'evals.unwatch',
  'evals.watches',
  'generate.checkpoints',
  'generate.models',
  'generate.load',
  'generate.unload',
  'generate.serve',
  'generate.start',
  'generate.stop',
  'generate.history',
  'generate.get'
] as const
export type ApiMethod = (typeof API_METHODS)[number]

/** Electron IPC channel names for the API and for pushed events. */
export const IPC_INVOKE = 'workbench:invoke'
export const IPC_EVENT = 'workbench:event'

/** Groups `jobs.start` style names into `{ jobs: ['start', ...] }` for the preload's domain API. */
export function groupMethods(methods: readonly string[]): Record<string, string[]> {
  const groups: Record<string, string[]> = {}
  for (const name of methods) {
    const [domain, verb] = name.split('.')
    ;(groups[domain] ??= []).push(verb)
  }
  return groups
}
