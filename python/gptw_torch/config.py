"""The training config: the TrainConfig JSON the app and `gptw train` write
(src/shared/config/train.ts), with the same defaults, read into typed dataclasses.

Accepts a bare TrainConfig or the train worker's parameters ({"config": ..., "datasetDir": ...,
"runDir": ..., "resumeDir": ...}). Keys this engine does not use (backend, devices, name) are
read and ignored; the app has validated the whole file already, so only what would make this
trainer misbehave is checked here.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

from .model import GPTConfig


@dataclass
class OptimizerConfig:
    lr: float = 6e-4
    minLr: float = 0.0
    weightDecay: float = 0.01
    beta1: float = 0.9
    beta2: float = 0.95
    eps: float = 1e-8
    gradClip: float = 1.0  # clip the global gradient norm to this; 0: off


@dataclass
class ScheduleConfig:
    decay: str = "cosine"  # cosine | linear | constant
    warmupSteps: int = 0


@dataclass
class EvalConfig:
    interval: int = 50  # validation loss every N steps (0: never)
    batches: int = 4


@dataclass
class CheckpointConfig:
    interval: int = 100  # save every N steps (0: only at the end)
    keepLast: int = 3


@dataclass
class TrainConfig:
    model: GPTConfig
    batchSize: int  # sequences per optimizer step, across all ranks and micro-batches
    steps: int
    microBatches: int = 1
    dataset: str | None = None
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    seed: int = 1337
    name: str | None = None
    devices: list[str] = field(default_factory=lambda: ["cpu:0"])
    sharding: str = "none"  # none | optimizer (ZeRO stage 1) | full (FSDP FULL_SHARD): sharding.py


@dataclass
class RunFiles:
    """Where the run's data and checkpoints are, when the file names them (the worker's parameters)."""
    dataset: str | None = None
    run_dir: str | None = None
    resume: str | None = None


def _fill(cls: type, raw: dict[str, Any], where: str) -> Any:
    """A dataclass from a JSON object: known keys type-checked, missing ones defaulted."""
    kwargs = {}
    for f in fields(cls):
        if f.name not in raw:
            continue
        value = raw[f.name]
        numeric = f.type in ("int", "float")
        if numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"{where}.{f.name} must be a number, not {value!r}.")
        kwargs[f.name] = float(value) if f.type == "float" else value
    return cls(**kwargs)


def parse_train_config(raw: dict[str, Any]) -> TrainConfig:
    m = raw.get("model")
    if not isinstance(m, dict):
        raise ValueError("The training config has no model section.")
    model = GPTConfig(n_layer=m["nLayer"], n_head=m["nHead"], n_embd=m["nEmbd"], n_ctx=m["nCtx"],
                      vocab_size=m.get("vocabSize", 50257), dropout=m.get("dropout", 0.0), layer_norm_eps=m.get("layerNormEps", 1e-5))
    if model.n_embd % model.n_head:
        raise ValueError(f"model.nEmbd {model.n_embd} must be divisible by model.nHead {model.n_head}.")
    for key in ("batchSize", "steps"):
        if not isinstance(raw.get(key), int):
            raise ValueError(f"The training config needs a whole number {key}.")
    c = TrainConfig(
        model=model, batchSize=raw["batchSize"], steps=raw["steps"], microBatches=raw.get("microBatches", 1),
        dataset=raw.get("dataset"), seed=raw.get("seed", 1337), name=raw.get("name"), devices=raw.get("devices", ["cpu:0"]),
        optimizer=_fill(OptimizerConfig, raw.get("optimizer", {}), "optimizer"),
        schedule=_fill(ScheduleConfig, raw.get("schedule", {}), "schedule"),
        eval=_fill(EvalConfig, raw.get("eval", {}), "eval"),
        checkpoint=_fill(CheckpointConfig, raw.get("checkpoint", {}), "checkpoint"),
        sharding=raw.get("sharding", "none"),
    )
    if c.schedule.decay not in ("cosine", "linear", "constant"):
        raise ValueError(f'schedule.decay must be cosine, linear or constant, not "{c.schedule.decay}".')
    if c.sharding not in ("none", "optimizer", "full"):
        raise ValueError(f'sharding must be none, optimizer or full, not "{c.sharding}".')
    parallel = raw.get("parallel", {})
    if parallel.get("tensor", 1) > 1 or parallel.get("pipeline", 1) > 1:
        raise ValueError(f"tensor parallel {parallel.get('tensor', 1)} x pipeline parallel {parallel.get('pipeline', 1)} is not supported: "
                         "this engine runs data parallel (DDP, one process per device) only; set parallel.tensor = parallel.pipeline = 1.")
    return c


def check_split(c: TrainConfig, world: int) -> None:
    """The global batch must split evenly over the ranks and micro-batches."""
    per_rank = c.batchSize / world
    if per_rank != int(per_rank) or int(per_rank) % c.microBatches:
        raise ValueError(f"batchSize {c.batchSize} must split evenly over {world} process(es) x {c.microBatches} micro-batch(es).")


def load_config(path: str) -> tuple[TrainConfig, RunFiles]:
    with open(path) as f:
        raw = json.load(f)
    if "config" in raw and isinstance(raw["config"], dict):
        return parse_train_config(raw["config"]), RunFiles(raw.get("datasetDir"), raw.get("runDir"), raw.get("resumeDir"))
    return parse_train_config(raw), RunFiles(raw.get("dataset"))
