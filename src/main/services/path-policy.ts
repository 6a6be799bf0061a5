// Which folders API inputs may name (issue 13 F7). Every path an API method takes is resolved here,
// in one place, before a service sees it: relative paths against the workspace, symlinks followed
// as far as the path exists, and the result must lie inside an approved root: the workspace, the
// app's resources (sample data, presets), folders named in GPTW_ALLOW_DIRS (`gptw serve` takes
// them from there) and folders a host approves at run time (a dialog's pick in the desktop app).
// Hosts whose caller is not the user at a keyboard turn enforcement on (the web host); the CLI's
// own arguments are the user's approval, so an unenforced policy leaves inputs as they are.
import fs from 'node:fs'
import path from 'node:path'
import { ApiError, type ApiParsedInput } from '../../shared/api'
import type { ApiMethod } from '../../shared/api-methods'

export const ALLOW_DIRS_ENV = 'GPTW_ALLOW_DIRS'

export class PathPolicy {
  private readonly extra: string[] = []
  private enforced = false

  /** `baseRoots`: the workspace root first (relative paths resolve against it), then the resources. */
  constructor(
    private readonly baseRoots: () => string[],
    private readonly env: NodeJS.ProcessEnv = process.env
  ) {}

  /** Refuse paths outside the approved roots from now on (the web host calls this). */
  enforce(): void {
    this.enforced = true
  }

  get enforcing(): boolean {
    return this.enforced
  }

  /** Approves a folder (and everything under it), e.g. one the user picked in a dialog. */
  allow(dir: string): void {
    this.extra.push(path.resolve(dir))
  }

  roots(): string[] {
    const fromEnv = (this.env[ALLOW_DIRS_ENV] ?? '').split(path.delimiter).filter(Boolean)
    return [...this.baseRoots(), ...fromEnv, ...this.extra].map((r) => realish(path.resolve(r)))
  }

  /**
   * Enforced: the absolute path `p` names (relative: against the workspace), or a forbidden error
   * naming it and how to allow its folder. Not enforced: `p` unchanged (the CLI resolves its own
   * arguments against the directory it was started in).
   */
  resolve(p: string, field: string): string {
    if (!this.enforced) return p
    const [workspace] = this.baseRoots()
    const resolved = path.resolve(workspace, p)
    const abs = realish(resolved)
    if (this.roots().some((root) => abs === root || abs.startsWith(root.endsWith(path.sep) ? root : root + path.sep))) return resolved
    const folder = fs.existsSync(abs) && fs.statSync(abs).isDirectory() ? abs : path.dirname(abs)
    throw new ApiError(
      'forbidden',
      `Forbidden: ${field} names ${p}${abs === p ? '' : ` (${abs})`}, outside the folders this host may read or write (the workspace ${workspace} and approved folders). ` +
        `Move the file into the workspace, or allow its folder: start the web host with ${ALLOW_DIRS_ENV}=${folder} (several folders separated by "${path.delimiter}"), or pick it in the desktop app's dialog.`
    )
  }
}

/** The real path of the deepest part of `p` that exists, with the rest appended (a symlink cannot lead out). */
function realish(p: string): string {
  const rest: string[] = []
  let cur = p
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(cur), ...rest.reverse())
    } catch {
      const parent = path.dirname(cur)
      if (parent === cur) return p
      rest.push(path.basename(cur))
      cur = parent
    }
  }
}

/**
 * Resolves every path in a parsed API input with `policy` (in place; the input is the parser's
 * fresh copy) and returns it. The list of path-taking inputs lives here and nowhere else.
 */
export function checkApiPaths<M extends ApiMethod>(method: M, parsed: ApiParsedInput<M>, policy: PathPolicy): ApiParsedInput<M> {
  const one = (p: string | undefined, field: string): string | undefined => (p === undefined ? undefined : policy.resolve(p, field))
  const many = (ps: string[] | undefined, field: string): string[] | undefined => ps?.map((p, i) => policy.resolve(p, `${field}[${i}]`))
  const input = parsed as unknown
  switch (method) {
    case 'jobs.start': {
      const spec = input as ApiParsedInput<'jobs.start'>
      if (spec.kind === 'tokenize') {
        spec.params.input = one(spec.params.input, 'tokenize input')!
        spec.params.outDir = one(spec.params.outDir, 'tokenize outDir')
      } else if (spec.kind === 'train') {
        spec.params.dataset = one(spec.params.dataset, 'train dataset')
        if (spec.params.config?.dataset !== undefined) spec.params.config.dataset = one(spec.params.config.dataset, 'train config.dataset')
      } else if (spec.kind === 'prepare') {
        const sources = spec.params.config.sources
        sources.urlFiles = many(sources.urlFiles, 'prepare sources.urlFiles')!
        sources.htmlDirs = many(sources.htmlDirs, 'prepare sources.htmlDirs')!
        sources.jsonFiles = many(sources.jsonFiles, 'prepare sources.jsonFiles')!
        spec.params.datasetDir = one(spec.params.datasetDir, 'prepare datasetDir')
      } else if (spec.kind === 'eval') {
        spec.params.checkpoints = many(spec.params.checkpoints, 'eval checkpoints')!
      } else if (spec.kind === 'generate') {
        spec.params.checkpoint = one(spec.params.checkpoint, 'generate checkpoint')!
      }
      break
    }
    case 'configs.save': {
      const save = input as ApiParsedInput<'configs.save'>
      if (save.config.dataset !== undefined) save.config.dataset = one(save.config.dataset, 'config.dataset')
      break
    }
    case 'evals.results': {
      const results = input as ApiParsedInput<'evals.results'>
      if (results?.checkpoints) results.checkpoints = many(results.checkpoints, 'evals.results checkpoints')
      break
    }
    case 'generate.load':
    case 'generate.unload':
    case 'generate.serve':
    case 'generate.start': {
      const g = input as { checkpoint: string }
      g.checkpoint = one(g.checkpoint, `${method} checkpoint`)!
      break
    }
  }
  return parsed
}
