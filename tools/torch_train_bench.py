#!/usr/bin/env python3
"""PyTorch yardstick for training speed, beside `npm run bench` (which runs it when Debian's
python3-torch is installed): the bench preset's GPT shape trained with AdamW on random tokens,
timed per step after a warm-up, so our engine's tokens/s can be read as a ratio to PyTorch's on
the same machine in the same run.

The model is the embedded engine's: pre-LayerNorm blocks, causal multi-head attention, tanh GELU,
the lm head tied to the token embedding. Plain attention (no fused kernel) so torch 1.13 and 2.x
time the same maths.

Setup (Debian): apt-get install -y python3-torch libopenblas0-pthread
Run:            /usr/bin/python3 tools/torch_train_bench.py [--steps 8] [--threads 2]
                [--vocab 50304 --ctx 128 --layers 4 --heads 4 --embd 256 --batch 8] [--keep-denormals]

Denormal floats are flushed to zero (torch.set_flush_denormal), PyTorch at its fastest: on Intel
CPUs torch 1.13 otherwise slows step by step as denormals appear (measured on a Xeon with AVX-512:
the bench shape's backward 1.2 s at the first step, 7.9 s at the sixth; 1.0 s throughout with
them flushed). --keep-denormals times PyTorch as it runs by default.
Prints one JSON line: tokens_per_s and step_s (median step), params, model GFLOP/s, peak RSS.
"""
import argparse
import json
import math
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, width: int, heads: int, ctx: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln_1 = nn.LayerNorm(width)
        self.c_attn = nn.Linear(width, 3 * width)
        self.attn_proj = nn.Linear(width, width)
        self.ln_2 = nn.LayerNorm(width)
        self.c_fc = nn.Linear(width, 4 * width)
        self.mlp_proj = nn.Linear(4 * width, width)
        self.register_buffer("future", torch.ones(ctx, ctx, dtype=torch.bool).triu(1), persistent=False)

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c = x.shape
        q, k, v = self.c_attn(x).view(b, t, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(c // self.heads)
        weights = scores.masked_fill(self.future[:t, :t], float("-inf")).softmax(dim=-1)
        return self.attn_proj((weights @ v).transpose(1, 2).reshape(b, t, c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln_1(x))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, vocab: int, ctx: int, layers: int, heads: int, width: int) -> None:
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(ctx, width)
        self.blocks = nn.ModuleList(Block(width, heads, ctx) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)

    def forward(self, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.t()  # the tied head
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name, default in [("vocab", 50304), ("ctx", 128), ("layers", 4), ("heads", 4), ("embd", 256),
                          ("batch", 8), ("steps", 8), ("warmup", 2), ("threads", 2)]:
        parser.add_argument("--" + name, type=int, default=default)
    parser.add_argument("--keep-denormals", action="store_true")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    flushed = not a.keep_denormals and torch.set_flush_denormal(True)
    torch.manual_seed(0)

    model = GPT(a.vocab, a.ctx, a.layers, a.heads, a.embd)
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)
    step_times = []
    for step in range(a.warmup + a.steps):
        idx = torch.randint(0, a.vocab, (a.batch, a.ctx))
        targets = torch.randint(0, a.vocab, (a.batch, a.ctx))
        started = time.perf_counter()
        loss = model(idx, targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()  # wait for the step to finish
        if step >= a.warmup:
            step_times.append(time.perf_counter() - started)

    step_s = statistics.median(step_times)
    tokens = a.batch * a.ctx
    print(json.dumps({
        "engine": "pytorch-" + torch.__version__,
        "threads": a.threads,
        "flush_denormal": flushed,
        "params": params,
        "tokens_per_step": tokens,
        "step_s": round(step_s, 4),
        "tokens_per_s": round(tokens / step_s, 1),
        "model_gflops": round(6 * params * tokens / step_s / 1e9, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }))


if __name__ == "__main__":
    main()
