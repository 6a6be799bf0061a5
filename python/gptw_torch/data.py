"""Token shards and the batch sampler, the same as the embedded engine's.

A dataset folder holds one file of little-endian uint16 GPT-2 ids per split (train.bin, val.bin)
and meta.json (src/core/data/shards.ts). Training batches are random windows of n_ctx + 1 tokens
drawn with mulberry32 (src/core/engine/rng.ts) exactly as src/core/engine/batches.ts and
trainer.ts draw them: one global batch per step from one generator that every rank runs, each
rank keeping its slice. So both engines, any world size and a resumed run see the same tokens.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterator

import numpy as np


class Mulberry32:
    """A PRNG whose whole state is one 32-bit number (saved in trainer_state.json as rngState)."""

    def __init__(self, state: int) -> None:
        self.state = state & 0xFFFFFFFF

    def next(self) -> float:
        """Uniform in [0, 1); bit for bit the JavaScript version (Math.imul is a 32-bit multiply)."""
        self.state = (self.state + 0x6D2B79F5) & 0xFFFFFFFF
        t = self.state
        t = ((t ^ (t >> 15)) * (t | 1)) & 0xFFFFFFFF
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & 0xFFFFFFFF)) & 0xFFFFFFFF
        return (t ^ (t >> 14)) / 4294967296

    def int(self, n: int) -> int:
        """Integer in [0, n): floor(next() * n) in double precision, as JavaScript computes it."""
        return int(self.next() * n)


def read_meta(folder: str) -> dict:
    file = os.path.join(folder, "meta.json")
    try:
        with open(file) as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        raise SystemExit(f"Cannot read the token shard description {file}: {err}. Re-run the tokenize step for this dataset.")
    if meta.get("format") != "gptw-tokens-v1" or meta.get("dtype") != "uint16":
        raise SystemExit(f"{file} is not a token shard description (format gptw-tokens-v1, dtype uint16). Re-run the tokenize step.")
    for split, info in meta["splits"].items():
        bin_file = os.path.join(folder, info["file"])
        size = os.path.getsize(bin_file) if os.path.exists(bin_file) else -1
        if size != info["tokens"] * 2:
            found = "is missing" if size < 0 else f"has {size} bytes"
            raise SystemExit(f"Token shard {bin_file} ({split}) should hold {info['tokens']} tokens ({info['tokens'] * 2} bytes) but {found}. Re-run the tokenize step.")
    return meta


def open_split(folder: str, split: str) -> np.ndarray | None:
    """The split's ids as a read-only memmap (no copy, however large), or None if there is none."""
    meta = read_meta(folder)
    info = meta["splits"].get(split)
    if info is None or info["tokens"] == 0:
        return None
    return np.memmap(os.path.join(folder, info["file"]), dtype="<u2", mode="r")


@dataclass
class Batch:
    inputs: np.ndarray  # [rows, T] int64
    targets: np.ndarray  # [rows, T] int64


def sample_batch(tokens: np.ndarray, batch: int, seq: int, rng: Mulberry32) -> Batch:
    """`batch` random windows; inputs the first `seq` tokens, targets shifted by one (batches.ts sampleBatch)."""
    if len(tokens) < seq + 1:
        raise SystemExit(f"The token shard has {len(tokens)} tokens, fewer than one window of {seq + 1}: use a bigger dataset or a shorter context.")
    starts = [rng.int(len(tokens) - seq) for _ in range(batch)]
    windows = np.stack([np.asarray(tokens[s:s + seq + 1], dtype=np.int64) for s in starts])
    return Batch(windows[:, :-1], windows[:, 1:])


def micro_batches(tokens: np.ndarray, batch_size: int, micro: int, seq: int, rng: Mulberry32, rank: int, world: int) -> list[Batch]:
    """This rank's micro-batches for the next step: every rank draws the same global batch and
    keeps rows [rank * batch_size / world, ...), split into `micro` pieces (trainer.ts nextMicroBatches)."""
    whole = sample_batch(tokens, batch_size, seq, rng)
    per_rank = batch_size // world
    per_micro = per_rank // micro
    out = []
    for m in range(micro):
        first = rank * per_rank + m * per_micro
        out.append(Batch(whole.inputs[first:first + per_micro], whole.targets[first:first + per_micro]))
    return out


def sequential_batches(tokens: np.ndarray, batch: int, seq: int, max_batches: int) -> Iterator[Batch]:
    """Consecutive non-overlapping windows from the start of a split (validation; batches.ts sequentialBatches)."""
    start = 0
    for _ in range(max_batches):
        rows = []
        while len(rows) < batch and start + seq + 1 <= len(tokens):
            rows.append(start)
            start += seq
        if not rows:
            return
        windows = np.stack([np.asarray(tokens[s:s + seq + 1], dtype=np.int64) for s in rows])
        yield Batch(windows[:, :-1], windows[:, 1:])
