// gptw: the headless CLI over the same services as the app.
//   gptw serve [--port N]                 serve the UI and API on 127.0.0.1 (0 = a free port)
//   gptw jobs [--json]                    list jobs in the workspace
//   gptw tokenize --input FILE [--out DIR] [--val-fraction F]
//   gptw train [--config FILE | --preset NAME | --resume RUN] [--json] ...
//   gptw score --checkpoint DIR --text FILE [--json]
//   gptw generate [--config FILE | --checkpoint DIR --prompt TEXT ...]
//   gptw eval --config FILE [--out FILE] [--json]
//   gptw bench
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { tokenizeCorpus } from '../core/data/tokenize'
import { inlineContext } from '../core/job-context'
import { UsageError, intFlag, numberFlag } from './cli/args'
import { bench } from './cli/bench'
import { GENERATE_HELP, generate } from './cli/generate'
import { EVAL_HELP, evalCommand } from './cli/eval'
import { PREPARE_HELP, prepare } from './cli/prepare'
import { createProgressBar } from './cli/progress-bar'
import { score } from './cli/score'
import { train } from './cli/train'
import { startWebHost } from './server'
import { Workbench } from './services/workbench'

const HELP = `gptw: GPT Workbench on the command line

  gptw serve [--port N]        Serve the workbench UI on 127.0.0.1 and print its URL with the
                               access token (--port 0, the default, picks a free port).
  gptw jobs [--json]           List the workspace's jobs.
  gptw tokenize --input FILE [--out DIR] [--val-fraction F]
                               Tokenize a .txt or loose-JSON (.json/.jsonl, {"text"} per line)
                               file into GPT-2 token shards (train.bin, val.bin, meta.json).
${PREPARE_HELP}

  gptw train [--config FILE | --preset NAME] [--dataset DIR] [--steps N] [--json]
             [--devices cpu:0,cpu:1] [--backend auto|wasm|cpu|tensorflow|tensorflow-gpu]
                               Train a GPT (default: the tiny-cpu preset on the bundled Moby Dick
                               sample). Config files are JSON or YAML in the TrainConfig schema.
  gptw train --resume RUN [--step N]
                               Continue a run from its latest (or the named) kept checkpoint.
  gptw score --checkpoint DIR --text FILE [--json]
                               Mean next-token loss and perplexity of a text under a checkpoint.
${GENERATE_HELP}
${EVAL_HELP}
  gptw bench [--steps N] [--only train,generation,eval,data,...] [--no-torch]
                               Speed of the bench preset (training tokens/s on the chosen and on
                               the stock backend, generation tokens/s, eval requests/s, data
                               MB/s) as JSON, beside PyTorch's when python3-torch is installed.

The workspace is ~/.gpt-workbench unless GPTW_HOME names another folder.`

const OUT_DIR = __dirname
const version = (JSON.parse(fs.readFileSync(path.join(OUT_DIR, '../../package.json'), 'utf8')) as { version: string }).version

function openWorkbench(): Workbench {
  return new Workbench({ workersDir: path.join(OUT_DIR, 'workers'), resourcesDir: path.join(OUT_DIR, '../../resources'), host: 'web', version })
}

export async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } })
  const workbench = openWorkbench()
  const host = await startWebHost({ workbench, rendererDir: path.join(OUT_DIR, '../renderer'), port: intFlag(values.port, 'port', 0, 0, 65535) })
  console.log(`GPT Workbench is serving at ${host.url}`)
  console.log(`Workspace: ${workbench.workspace.root}  (Ctrl+C stops)`)
  const stop = async (): Promise<void> => {
    await host.close()
    await workbench.close()
    process.exit(0)
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

async function jobs(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean' }, limit: { type: 'string' } } })
  const workbench = openWorkbench()
  const list = workbench.jobs.list(intFlag(values.limit, 'limit', 50, 1, 10000))
  await workbench.close()
  if (values.json) return void console.log(JSON.stringify(list, null, 2))
  if (!list.length) return void console.log('No jobs yet.')
  for (const job of list) {
    const pct = `${Math.round(job.progress * 100)}%`.padStart(4)
    const when = new Date(job.createdAt).toISOString().replace('T', ' ').slice(0, 19)
    console.log(`${String(job.id).padStart(5)}  ${job.kind.padEnd(10)} ${job.state.padEnd(9)} ${pct}  ${when}  ${job.error ?? job.progressText}`)
  }
}

async function tokenize(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { input: { type: 'string' }, out: { type: 'string' }, 'val-fraction': { type: 'string' }, json: { type: 'boolean' } } })
  if (!values.input) throw new UsageError('tokenize needs --input FILE (.txt, .json or .jsonl).')
  const input = path.resolve(values.input)
  const outDir = path.resolve(values.out ?? path.join(path.dirname(input), path.basename(input).replace(/\.[^.]+$/, '') + '-tokens'))
  const bar = createProgressBar()
  const result = await tokenizeCorpus(
    { input, outDir, valFraction: numberFlag(values['val-fraction'], 'val-fraction', 0, 0, 0.5) },
    inlineContext(bar.update, (text) => console.error(text))
  )
  bar.done()
  console.log(values.json ? JSON.stringify(result) : `Wrote ${Object.entries(result.splits).map(([s, v]) => `${s}: ${v.tokens} tokens`).join(', ')} to ${outDir}`)
}

async function evalCli(argv: string[]): Promise<number> {
  const workbench = openWorkbench()
  try {
    return await evalCommand(argv, workbench)
  } finally {
    await workbench.close()
  }
}

async function trainCommand(argv: string[]): Promise<number> {
  const workbench = openWorkbench()
  try {
    return await train(argv, workbench)
  } finally {
    await workbench.close()
  }
}

const COMMANDS: Record<string, (argv: string[]) => Promise<void | number>> = {
  serve,
  jobs,
  tokenize,
  prepare,
  train: trainCommand,
  eval: evalCli,
  score,
  generate,
  bench: (argv) => bench(argv, path.join(OUT_DIR, '../../resources'), path.join(OUT_DIR, '../../bin/gptw.js'))
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (!command || command === 'help' || command === '--help' || command === '-h') return void console.log(HELP)
  const run = COMMANDS[command]
  if (!run) throw new UsageError(`Unknown command "${command}". Run \`gptw help\` for the list.`)
  const code = await run(rest)
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
