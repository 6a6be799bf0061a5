// The text of `gptw help`: every command with its flags (the longer commands bring their own).
import { EVAL_HELP } from './eval'
import { GENERATE_HELP } from './generate'
import { PREPARE_HELP } from './prepare'

export const HELP = `gptw: GPT Workbench on the command line

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
