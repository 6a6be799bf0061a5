// gptw: the headless CLI over the same services as the app. This file only reads the command
// name and dispatches; each command lives in cli/<name>.ts (the list with flags: cli/help.ts).
//   gptw serve | jobs | tokenize | prepare | train | eval | score | generate | bench | help
// Built as out/main/cli.js, which bin/gptw.js loads; commands get this bundle's folder to find
// the workers, the renderer and the resources.
import path from 'node:path'
import { UsageError } from './cli/args'
import { bench } from './cli/bench'
import { type CliEnv, resourcesDir, withWorkbench } from './cli/env'
import { evalCommand } from './cli/eval'
import { generate } from './cli/generate'
import { HELP } from './cli/help'
import { jobs } from './cli/jobs'
import { prepare } from './cli/prepare'
import { score } from './cli/score'
import { serve } from './cli/serve'
import { tokenize } from './cli/tokenize'
import { train } from './cli/train'

const ENV: CliEnv = { outDir: __dirname }

const COMMANDS: Record<string, (argv: string[], env: CliEnv) => Promise<void | number>> = {
  serve,
  jobs,
  tokenize,
  prepare,
  train: (argv, env) => withWorkbench(env, (workbench) => train(argv, workbench)),
  eval: (argv, env) => withWorkbench(env, (workbench) => evalCommand(argv, workbench)),
  score,
  generate,
  bench: (argv, env) => bench(argv, resourcesDir(env), path.join(env.outDir, '../../bin/gptw.js'))
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') return void console.log(HELP)
  const run = COMMANDS[command]
  if (!run) throw new UsageError(`Unknown command "${command}". Run \`gptw help\` for the list.`)
  const code = await run(rest, ENV)
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
