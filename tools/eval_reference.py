#!/usr/bin/python3
"""PyTorch reference for the eval engine adapter: the harness's request maths (lm_eval/base.py,
v0.2.0, BaseLM._loglikelihood_tokens and loglikelihood_rolling) computed one request at a time,
in float64, on tools/torch_reference.py's GPT-2, from token ids (the tokenizer is a library and
is not under test here). test/eval/engine-model.test.ts compares the tfjs adapter against it.

  /usr/bin/python3 tools/eval_reference.py < requests.json > answers.json

requests.json:
  {"checkpoint": DIR,
   "loglikelihood": [{"context": [ids], "continuation": [ids]}, ...],
   "rolling": [[ids], ...],
   "generate": [{"context": [ids], "steps": N}, ...]}
answers.json:
  {"loglikelihood": [{"logprob": x, "is_greedy": b}], "rolling": [x], "generate": [[ids]]}
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_reference import forward, load_checkpoint  # noqa: E402

EOT = 50256


def log_probs(cfg, vocab, params, tokens):
    """log-softmax over the real vocabulary at every position of one sequence."""
    logits = forward(cfg, params, torch.tensor([tokens]))[0, :, :vocab]
    return F.log_softmax(logits, dim=-1)


def loglikelihood(cfg, vocab, params, context, continuation):
    max_length = cfg["n_positions"]
    # the harness: inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1]
    inp = (context + continuation)[-(max_length + 1):][:-1]
    lp = log_probs(cfg, vocab, params, inp)[len(inp) - len(continuation):]
    cont = torch.tensor(continuation)
    return {"logprob": lp.gather(1, cont.unsqueeze(1)).sum().item(), "is_greedy": bool((lp.argmax(-1) == cont).all())}


def rolling(cfg, vocab, params, tokens):
    """Every token predicted once: first from [EOT], later windows with the longest context that fits."""
    max_length = cfg["n_positions"]
    total = 0.0
    done = 0
    while done < len(tokens):
        n = min(max_length, len(tokens) - done)
        end = done + n
        seq = ([EOT] + tokens)[max(0, end - max_length):end]  # inputs for predicting tokens[end-n:end]
        lp = log_probs(cfg, vocab, params, seq)[len(seq) - n:]
        total += lp.gather(1, torch.tensor(tokens[done:end]).unsqueeze(1)).sum().item()
        done = end
    return total


def generate(cfg, vocab, params, context, steps):
    max_length = cfg["n_positions"]
    keep = max_length - steps if max_length > steps else max(1, max_length // 2)
    seq = list(context[-keep:])
    out = []
    for _ in range(steps):
        nxt = int(log_probs(cfg, vocab, params, seq[-max_length:])[-1].argmax())
        seq.append(nxt)
        out.append(nxt)
    return out


def main():
    req = json.load(sys.stdin)
    torch.set_num_threads(1)
    cfg, vocab, params = load_checkpoint(req["checkpoint"])
    with torch.no_grad():
        answers = {
            "loglikelihood": [loglikelihood(cfg, vocab, params, r["context"], r["continuation"]) for r in req.get("loglikelihood", [])],
            "rolling": [rolling(cfg, vocab, params, t) for t in req.get("rolling", [])],
            "generate": [generate(cfg, vocab, params, r["context"], r["steps"]) for r in req.get("generate", [])],
        }
    json.dump(answers, sys.stdout)


if __name__ == "__main__":
    main()
