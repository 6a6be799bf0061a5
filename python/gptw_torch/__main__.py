"""Command line: `python3 -m gptw_torch train --config run.json --dataset DIR --out RUN_DIR`
(under torchrun for several processes) and `python3 -m gptw_torch loss --checkpoint DIR --ids FILE`."""
from __future__ import annotations

import argparse
import json
import sys

from . import train as train_module


def loss_command(args: argparse.Namespace) -> int:
    """Mean next-token loss of a token sequence under a checkpoint, windowed as the embedded
    engine's `gptw score` windows it (src/core/engine/score.ts): non-overlapping windows of the
    context, the last one shorter, weighted by tokens. The ids file is little-endian uint16."""
    import numpy as np
    import torch

    from .checkpoint import load_checkpoint
    from .model import GPT

    ckpt = load_checkpoint(args.checkpoint, model_only=True)
    model = GPT(ckpt.config)
    model.load_state_dict(ckpt.params)
    model.eval()
    ids = np.fromfile(args.ids, dtype="<u2").astype(np.int64)
    T = ckpt.config.n_ctx
    total, count = 0.0, 0
    with torch.no_grad():
        for s in range(0, len(ids) - 1, T):
            end = min(s + T, len(ids) - 1)
            x = torch.from_numpy(ids[s:end]).unsqueeze(0)
            y = torch.from_numpy(ids[s + 1:end + 1]).unsqueeze(0)
            _, loss = model(x, y)
            total += loss.item() * (end - s)
            count += end - s
    print(json.dumps({"checkpoint": args.checkpoint, "tokens": count, "loss": total / count}))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="gptw_torch", description="GPT Workbench's PyTorch engine.")
    sub = ap.add_subparsers(dest="command", required=True)
    train_module.add_arguments(sub.add_parser("train", help="train (or resume) a run from a TrainConfig"))
    lp = sub.add_parser("loss", help="the loss of a uint16 token file under a checkpoint")
    lp.add_argument("--checkpoint", required=True)
    lp.add_argument("--ids", required=True)
    args = ap.parse_args(argv)
    return train_module.train(args) if args.command == "train" else loss_command(args)


if __name__ == "__main__":
    sys.exit(main())
