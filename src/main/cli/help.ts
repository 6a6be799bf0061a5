// The one table of gptw's commands (usage lines, summary, options with descriptions): `gptw --help`
// and `gptw COMMAND --help` are both printed from it, the README's CLI block is checked against it
// (test/cli-help.test.ts), and an unknown option is answered with the closest one it lists.
// Internal flags a command passes to itself (bench --section, --torch) are left out on purpose.

export interface OptionHelp {
  /** Without the dashes: 'max-new-tokens'. */
  name: string
  /** The value's placeholder ('N', 'FILE'); none for a boolean flag. */
  arg?: string
  description: string
}

export interface CommandHelp {
  name: string
  /** Usage lines after `gptw `, e.g. 'train [--config FILE | --preset NAME] [--steps N]'. */
  usage: string[]
  summary: string
  options: OptionHelp[]
}

const JSON_OPTION: OptionHelp = { name: 'json', description: 'Print JSON instead of text.' }

export const COMMANDS: CommandHelp[] = [
  {
    name: 'serve',
    usage: ['serve [--port N] [--allow DIR ...]'],
    summary: 'Serve the workbench UI and API on 127.0.0.1 and print its URL with the access token.',
    options: [
      {
        name: 'port',
        arg: 'N',
        description:
          'Port to listen on (0, the default, picks a free one). A fixed port keeps its access token in the workspace (web-token), so after a restart the URL is the same and an open tab reconnects by itself.'
      },
      { name: 'allow', arg: 'DIR', description: 'Also let the UI and API read and write this folder (repeatable); by default only the workspace and the bundled samples.' }
    ]
  },
  {
    name: 'jobs',
    usage: ['jobs [--limit N] [--json]'],
    summary: "List the workspace's jobs, newest first.",
    options: [{ name: 'limit', arg: 'N', description: 'At most N jobs (default 50).' }, JSON_OPTION]
  },
  {
    name: 'tokenize',
    usage: ['tokenize --input FILE [--out DIR] [--val-fraction F] [--json]'],
    summary: 'Tokenize a .txt or loose-JSON (.json/.jsonl, {"text"} per line) file into GPT-2 token shards (train.bin, val.bin, meta.json).',
    options: [
      { name: 'input', arg: 'FILE', description: 'The text or JSON file to tokenize.' },
      { name: 'out', arg: 'DIR', description: 'Dataset folder to write (default: a new one in the workspace).' },
      { name: 'val-fraction', arg: 'F', description: 'Share of the tokens kept for the validation split.' },
      JSON_OPTION
    ]
  },
  {
    name: 'prepare',
    usage: ['prepare --config FILE [--out DIR] [--json]'],
    summary:
      'Prepare a Webtext dataset: URL lists, saved HTML pages or loose JSON -> filtered, downloaded, extracted, cleaned, deduplicated train_data.json and GPT-2 token shards (the Data view runs the same).',
    options: [
      { name: 'config', arg: 'FILE', description: 'The pipeline config, JSON or YAML.' },
      { name: 'out', arg: 'DIR', description: 'Reuse this dataset folder, resuming an interrupted run.' },
      { name: 'json', description: 'Print progress and the result as JSON lines.' }
    ]
  },
  {
    name: 'train',
    usage: [
      'train [--config FILE | --preset NAME] [--dataset DIR] [--steps N] [--engine embedded|pytorch|auto] [--devices LIST] [--backend NAME] [--launcher local|ssh|slurm] [--hosts FILE] [--sharding none|optimizer|full] [--init DIR] [--no-memory-check] [--dry-run] [--json]',
      'train --resume RUN [--step N] [--json]'
    ],
    summary:
      'Train a GPT (default: the tiny-cpu preset on the bundled Moby Dick sample) or continue a run from a kept checkpoint. Prints the backend once, then a progress line per step (loss, tokens/s, TFLOP/s, MFU, step time split, memory, ETA).',
    options: [
      { name: 'config', arg: 'FILE', description: 'A TrainConfig as JSON or YAML (src/shared/config/train.ts).' },
      { name: 'preset', arg: 'NAME', description: 'A built-in preset: tiny-cpu, small-cpu, bench, gpt2-small...' },
      { name: 'dataset', arg: 'DIR', description: 'Token shards folder (from gptw tokenize or prepare).' },
      { name: 'steps', arg: 'N', description: 'Override the number of training steps.' },
      { name: 'engine', arg: 'NAME', description: 'embedded (tfjs + native kernels), pytorch (torchrun) or auto.' },
      { name: 'devices', arg: 'LIST', description: 'cpu:0,cpu:1 or gpu:0,gpu:1 trains data parallel.' },
      { name: 'backend', arg: 'NAME', description: 'Embedded engine: auto, native, wasm, cpu, tensorflow or tensorflow-gpu.' },
      { name: 'launcher', arg: 'NAME', description: 'PyTorch engine: local torchrun (default), ssh (one torchrun per host of --hosts) or slurm (an sbatch script; settings in the config).' },
      { name: 'hosts', arg: 'FILE', description: 'With --launcher ssh: a JSON or YAML list of { host, gpus, workDir } (the first host is the rendezvous).' },
      { name: 'sharding', arg: 'MODE', description: "PyTorch engine: none, optimizer (ZeRO stage 1: AdamW's moments split over the processes) or full (FSDP; CUDA, torch >= 2)." },
      { name: 'init', arg: 'DIR', description: "Start from a checkpoint's weights (PyTorch engine)." },
      { name: 'no-memory-check', description: 'Start even when the memory estimate is past the available memory (GPTW_MEMORY_AVAILABLE_MB overrides what is available).' },
      { name: 'dry-run', description: 'Print what would be launched (the torchrun command, the ssh launch script or the sbatch script on PyTorch) and start nothing.' },
      { name: 'resume', arg: 'RUN', description: 'Continue run RUN from its latest kept checkpoint.' },
      { name: 'step', arg: 'N', description: 'With --resume: the checkpoint step to continue from.' },
      { name: 'json', description: 'One JSON object per step (every metric), then a summary object.' }
    ]
  },
  {
    name: 'batch',
    usage: ['batch --run ID --step N [--split train|val] [--json]'],
    summary:
      'Print the decoded text of the batch a run trained on at step N, reproduced from its seed and sampler (or the validation batch), with end-of-text boundaries marked and the share of repeated documents.',
    options: [
      { name: 'run', arg: 'ID', description: 'The run (see gptw jobs or the Runs view).' },
      { name: 'step', arg: 'N', description: 'The training step, from 1.' },
      { name: 'split', arg: 'train|val', description: 'The training batch (default) or the validation batch.' },
      { name: 'json', description: 'Rows with token ids, positions and texts as JSON.' }
    ]
  },
  {
    name: 'score',
    usage: ['score --checkpoint DIR --text FILE [--backend NAME] [--json]'],
    summary: 'Mean next-token loss and perplexity of a text under a checkpoint.',
    options: [
      { name: 'checkpoint', arg: 'DIR', description: "A run's checkpoint or a Hugging Face GPT-2 folder." },
      { name: 'text', arg: 'FILE', description: 'The text to score.' },
      { name: 'backend', arg: 'NAME', description: 'auto (default), native, wasm, cpu, tensorflow...' },
      JSON_OPTION
    ]
  },
  {
    name: 'generate',
    usage: [
      'generate --checkpoint DIR --prompt "..." [--greedy] [--max-new-tokens N] [--temperature T] [--top-k K] [--top-p P] [--repetition-penalty R] [--seed S] [--stop TEXT]... [--json]',
      'generate --checkpoint DIR [--input FILE [--output FILE] | --samples N [--output FILE]]',
      'generate --config FILE',
      'generate ... --engine pytorch [--device cpu:0|gpu:N] [--dtype auto|float32|bfloat16]',
      'generate --checkpoint DIR (--input FILE | --samples N) --engine pytorch --devices LIST'
    ],
    summary:
      'Continue a prompt with a run\'s checkpoint or a Hugging Face GPT-2 folder, streaming to stdout (greedy unless a temperature is given); input-file mode (a .txt line or {"text"} JSONL line per prompt, JSONL out), N unconditional samples, or without either an interactive console. --config takes the seed\'s generate_configs keys.',
    options: [
      { name: 'checkpoint', arg: 'DIR', description: "A run's checkpoint or a Hugging Face GPT-2 folder." },
      { name: 'prompt', arg: 'TEXT', description: 'The text to continue.' },
      { name: 'input', arg: 'FILE', description: 'One prompt per line (.txt) or {"text"} per line (.jsonl).' },
      { name: 'output', arg: 'FILE', description: 'JSONL output for --input or --samples.' },
      { name: 'samples', arg: 'N', description: 'N unconditional samples.' },
      { name: 'config', arg: 'FILE', description: 'A generate config, JSON or YAML (mode: unconditional, input-file or interactive).' },
      { name: 'greedy', description: 'Always the most likely token.' },
      { name: 'max-new-tokens', arg: 'N', description: 'Tokens to generate per prompt.' },
      { name: 'temperature', arg: 'T', description: 'Sampling temperature.' },
      { name: 'top-k', arg: 'K', description: 'Sample from the K most likely tokens.' },
      { name: 'top-p', arg: 'P', description: 'Sample from the smallest set with probability P.' },
      { name: 'repetition-penalty', arg: 'R', description: 'Divide the logits of tokens already seen by R.' },
      { name: 'seed', arg: 'S', description: 'Seed for sampling.' },
      { name: 'stop', arg: 'TEXT', description: 'Stop at this text (repeatable).' },
      { name: 'backend', arg: 'NAME', description: 'auto (default), native, wasm, cpu, tensorflow...' },
      { name: 'engine', arg: 'NAME', description: 'embedded (default), pytorch (a model server process; GPTW_PYTHON) or auto (pytorch on a GPU device).' },
      { name: 'device', arg: 'ID', description: "The PyTorch engine's device: cpu:0 (default) or gpu:N." },
      { name: 'devices', arg: 'LIST', description: 'PyTorch, --input or --samples: a model server per device (e.g. gpu:0,gpu:1), samples spread over them, lines in input order.' },
      { name: 'dtype', arg: 'NAME', description: 'PyTorch: auto (bfloat16 on a CUDA GPU with bf16, else float32), float32, or bfloat16 (refused on the CPU).' },
      JSON_OPTION
    ]
  },
  {
    name: 'eval',
    usage: ['eval --config FILE [--engine embedded|pytorch|auto] [--devices LIST] [--dtype auto|float32|bfloat16] [--out FILE] [--json]'],
    summary:
      "Evaluate checkpoints on lm-evaluation-harness tasks: a results table and JSON (--out, else the file's output key, else the workspace's evals/). FILE names checkpoints, tasks, numFewshot, limit, noCache, batchSize and sources; the seed's eval.py keys work too.",
    options: [
      { name: 'config', arg: 'FILE', description: 'The eval config, JSON or YAML.' },
      { name: 'engine', arg: 'NAME', description: "Overrides the file's engine: embedded, pytorch (model servers; GPTW_PYTHON) or auto." },
      { name: 'devices', arg: 'LIST', description: "The PyTorch engine's devices, one model server each: e.g. gpu:0,gpu:1 or cpu:0,cpu:1." },
      { name: 'dtype', arg: 'NAME', description: "Overrides the file's dtype: auto (float32: scores compared to 1e-4), float32, or bfloat16 (CUDA only)." },
      { name: 'out', arg: 'FILE', description: 'Where to write the results JSON.' },
      JSON_OPTION
    ]
  },
  {
    name: 'serve-model',
    usage: [
      'serve-model --checkpoint DIR [--checkpoint DIR]... [--port N] [--host H] [--api-key KEY] [--max-batch N] [--max-queue N] [--backend NAME] [--engine embedded|pytorch|auto] [--devices LIST] [--dtype auto|float32|bfloat16]'
    ],
    summary:
      'Serve checkpoints over an OpenAI-compatible API (GET /v1/models, POST /v1/completions and /v1/chat/completions, streaming, echo + logprobs), concurrent requests decoded in shared batches, until Ctrl+C; prints the URL and a curl example.',
    options: [
      { name: 'checkpoint', arg: 'DIR', description: "A run's checkpoint or a Hugging Face GPT-2 folder (repeatable; model id <run>-step-N or the folder's name)." },
      { name: 'port', arg: 'N', description: 'Port to listen on (default 8000; 0 picks a free one).' },
      { name: 'host', arg: 'H', description: 'Address to bind (default 127.0.0.1); any other needs --api-key.' },
      { name: 'api-key', arg: 'KEY', description: 'Requests need "Authorization: Bearer KEY" (GPTW_API_KEY works too).' },
      { name: 'max-batch', arg: 'N', description: 'Sequences decoded together per model (default 16).' },
      { name: 'max-queue', arg: 'N', description: 'Sequences waiting for a slot per model before a 429 (default 64).' },
      { name: 'backend', arg: 'NAME', description: 'auto (default), native, wasm, cpu, tensorflow...' },
      { name: 'engine', arg: 'NAME', description: 'embedded (default, in this process), pytorch (a model server per device) or auto (pytorch on a CUDA GPU).' },
      { name: 'devices', arg: 'LIST', description: "The PyTorch engine's devices, e.g. cpu:0 or gpu:0,gpu:1 (default cpu:0); sequences go to the least busy." },
      { name: 'dtype', arg: 'NAME', description: 'PyTorch: auto (bfloat16 on a CUDA GPU with bf16, else float32), float32, or bfloat16 (refused on the CPU).' }
    ]
  },
  {
    name: 'bench',
    usage: ['bench [--steps N] [--backend NAME] [--only train,generation,eval,data,...] [--rounds N] [--no-torch]'],
    summary:
      'Speed of the bench preset as JSON: training tokens/s on the chosen and on the stock backend, generation tokens/s, eval requests/s, data MB/s, and GPT-2 small (batch 1, context 1024) with and without activation checkpointing (tokens/s, peak RSS), beside PyTorch on the same shapes when python3-torch is installed (npm run bench).',
    options: [
      { name: 'steps', arg: 'N', description: 'Training steps per measurement (default 6).' },
      { name: 'backend', arg: 'NAME', description: 'The backend to measure (default auto).' },
      {
        name: 'only',
        arg: 'LIST',
        description: 'Sections: train, train-stock, train-pytorch, generation, generation-stock, eval, eval-stock, eval-pytorch, generation-pytorch, data, serve, train-gpt2-small.'
      },
      { name: 'rounds', arg: 'N', description: 'Run the sections and PyTorch N times in turn; each part keeps its fastest run (default 1).' },
      { name: 'no-torch', description: 'Skip the PyTorch comparison.' }
    ]
  }
]

const WIDTH = 100
const INDENT = '      '

/** Greedy word wrap to WIDTH columns, every line prefixed with `indent`. */
function wrap(text: string, indent: string, width = WIDTH): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line)
      line = word
    } else line = line ? `${line} ${word}` : word
  }
  if (line) lines.push(indent + line)
  return lines
}

/** A usage line wrapped at option brackets, continuation lines aligned after `gptw COMMAND `. */
function usageLines(usage: string, prefix: string): string[] {
  const hang = ' '.repeat(prefix.length + usage.indexOf(' ', usage.indexOf(' ') + 1) + 1)
  const parts = usage.match(/\[[^[\]]*(\[[^[\]]*\][^[\]]*)*\](\.\.\.)?|"[^"]*"|\S+/g) ?? [usage]
  const lines: string[] = []
  let line = prefix
  for (const part of parts) {
    if (line.trim() && line.length + 1 + part.length > WIDTH && line !== prefix) {
      lines.push(line)
      line = hang + part
    } else line = line === prefix ? prefix + part : `${line} ${part}`
  }
  lines.push(line)
  return lines
}

function optionLabel(o: OptionHelp): string {
  return `--${o.name}${o.arg ? ` ${o.arg}` : ''}`
}

export function findCommand(name: string): CommandHelp | undefined {
  return COMMANDS.find((c) => c.name === name)
}

/** `gptw COMMAND --help`: usage lines, the summary, one line per option. */
export function commandHelp(command: CommandHelp): string {
  const usage = command.usage.flatMap((u, i) => usageLines(`gptw ${u}`, i === 0 ? 'Usage: ' : '       '))
  const labels = command.options.map(optionLabel)
  const column = Math.min(26, Math.max('-h, --help'.length, ...labels.map((l) => l.length)) + 2)
  const options = command.options.flatMap((o, i) => {
    const label = `  ${labels[i]}`
    const text = wrap(o.description, ' '.repeat(column + 2), WIDTH)
    if (labels[i].length + 2 <= column) return [label.padEnd(column + 2) + text[0].trimStart(), ...text.slice(1)]
    return [label, ...text]
  })
  return [...usage, '', ...wrap(command.summary, ''), '', 'Options:', ...options, '  -h, --help'.padEnd(column + 2) + 'Print this help.'].join('\n')
}

/** `gptw --help`: every command's usage and summary. */
export const HELP = [
  'gptw: GPT Workbench on the command line',
  '',
  ...COMMANDS.flatMap((c) => [...c.usage.flatMap((u) => usageLines(`gptw ${u}`, '  ')), ...wrap(c.summary, INDENT), '']),
  ...wrap('`gptw COMMAND --help` lists its options. The workspace is ~/.gpt-workbench unless GPTW_HOME names another folder.', '')
].join('\n')

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]
}

/** The candidate nearest to `name` (a prefix counts as near), or undefined when none is close. */
export function closest(name: string, candidates: string[]): string | undefined {
  let best: string | undefined
  let bestScore = Infinity
  for (const c of candidates) {
    const score = c.startsWith(name) || name.startsWith(c) ? Math.min(1, distance(name, c)) : distance(name, c)
    if (score < bestScore) [best, bestScore] = [c, score]
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined
}

/** The message for an option `command` does not take, e.g. "unknown option --step; did you mean --steps?". */
export function unknownOptionMessage(command: string, option: string): string {
  const bare = option.replace(/^-+/, '').split('=')[0]
  const spec = findCommand(command)
  const near = spec
    ? closest(
        bare,
        spec.options.map((o) => o.name)
      )
    : undefined
  return `unknown option ${option.startsWith('--') ? option.split('=')[0] : option}${near ? `; did you mean --${near}?` : ''} (gptw ${command} --help lists them)`
}

/** "unknown command x; did you mean y?" */
export function unknownCommandMessage(command: string): string {
  const near = closest(
    command,
    COMMANDS.map((c) => c.name)
  )
  return `unknown command "${command}"${near ? `; did you mean ${near}?` : ''} (gptw --help lists them)`
}
