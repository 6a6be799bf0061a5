// gptw: the headless CLI over the same services as the app. This file only reads the command
// name and dispatches; each command lives in cli/<name>.ts (the list with flags: cli/help.ts).
//   gptw serve | jobs | tokenize | prepare | train | batch | eval | score | generate | serve-model | bench | help
// `gptw COMMAND --help` and unknown options are answered here from cli/help.ts's table.
// Built as out/main/cli.js, which bin/gptw.js loads; commands get this bundle's folder to find
// the workers, the renderer and the resources.
import path from 'node:path'
import { UsageError } from './cli/args'
import { batch } from './cli/batch'
import { bench } from './cli/bench'
import { type CliEnv, resourcesDir, withWorkbench } from './cli/env'
import { evalCommand } from './cli/eval'
import { generate } from './cli/generate'
import { HELP, commandHelp, findCommand, unknownCommandMessage, unknownOptionMessage } from './cli/help'
import { jobs } from './cli/jobs'
import { prepare } from './cli/prepare'
import { score } from './cli/score'
import { serve } from './cli/serve'
import { serveModel } from './cli/serve-model'
import { tokenize } from './cli/tokenize'
import { train } from './cli/train'

const ENV: CliEnv = { outDir: __dirname }

const COMMANDS: Record<string, (argv: string[], env: CliEnv) => Promise<void | number>> = {
  serve,
  jobs,
  tokenize,
  prepare,
  train: (argv, env) => withWorkbench(env, (workbench) => train(argv, workbench)),
  batch,
  eval: (argv, env) => withWorkbench(env, (workbench) => evalCommand(argv, workbench)),
  score,
  generate,
  'serve-model': serveModel,
  bench: (argv, env) => bench(argv, resourcesDir(env), path.join(env.outDir, '../../bin/gptw.js'))
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const spec = rest[0] ? findCommand(rest[0]) : undefined
    return void console.log(spec ? commandHelp(spec) : HELP)
  }
  const run = COMMANDS[command]
  if (!run) throw new UsageError(unknownCommandMessage(command))
  const end = rest.indexOf('--')
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) return void console.log(commandHelp(findCommand(command)!))
  const code = await run(rest, ENV).catch((err: NodeJS.ErrnoException) => {
    // node:util parseArgs says "Unknown option '--step'. To specify a positional argument...": name the nearest valid one instead.
    const unknown = err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /'([^']+)'/.exec(err.message)?.[1] : undefined
    throw unknown ? new UsageError(unknownOptionMessage(command, unknown)) : err
  })
  if (typeof code === 'number') process.exitCode = code
}

/** Runs the CLI and exits with 2 for usage errors, 1 for failures. */
export function runCli(argv: string[]): void {
  main(argv).catch((err: Error) => {
    console.error(`gptw: ${err.message}`)
    const usage = err instanceof UsageError || String((err as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')
    process.exit(usage ? 2 : 1)
  })
}
