"""ZeRO-style sharding for the training loop (the config's `sharding` key), so a rank holds less:

  none       every rank keeps the whole model, its gradients and AdamW's moments (plain DDP).
  optimizer  ZeRO stage 1: AdamW's moments are split over the data-parallel ranks
             (torch.distributed.optim.ZeroRedundancyOptimizer around the same AdamW and param
             groups, under DDP). Each rank steps its own parameters and broadcasts them; the
             numbers are those of `none`. Any torch with torch.distributed, CPU (gloo) or CUDA.
  full       ZeRO stage 3: parameters, gradients and moments sharded by FSDP FULL_SHARD, one
             FSDP unit per transformer block. torch >= 2.0 with CUDA only (FSDP in 1.13 is
             CUDA-only and does not import on Python 3.11); refused anywhere else.

Checkpoints stay the project's format with the full moments: rank 0 gathers them before it
writes (every rank takes part), and a resume hands every rank the full moments, of which a sharded
optimizer keeps its own part. So a checkpoint moves between sharding modes and process counts.
"""
from __future__ import annotations

import functools
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.optim import ZeroRedundancyOptimizer

MODES = ("none", "optimizer", "full")


def torch_major() -> int:
    return int(torch.__version__.split(".")[0])


def check_sharding(mode: str, device_type: str, world: int) -> str:
    """The mode this run uses; a clear SystemExit where it cannot run. One process has nothing to
    share its optimizer state with, so `optimizer` runs as `none` there (the numbers are the same)."""
    if mode not in MODES:
        raise SystemExit(f'sharding must be none, optimizer or full, not "{mode}".')
    if mode == "full" and (torch_major() < 2 or device_type != "cuda"):
        where = f"torch {torch.__version__} on {'CUDA' if device_type == 'cuda' else 'the CPU'}"
        raise SystemExit(f"sharding full (FSDP FULL_SHARD) needs torch >= 2.0 with CUDA; this is {where}. "
                         "Use sharding optimizer (ZeRO stage 1: AdamW's moments split over the ranks, under DDP; any torch, CPU or GPU) or none.")
    if mode != "none" and world == 1:
        return "none"
    return mode


def zero_optimizer(groups: list[dict], **defaults: Any) -> ZeroRedundancyOptimizer:
    """AdamW with these param groups, each rank holding the moments of its share of the parameters
    (the largest first, to the rank with the fewest elements so far)."""
    return ZeroRedundancyOptimizer(groups, optimizer_class=torch.optim.AdamW, **defaults)


def local_optimizer(opt: torch.optim.Optimizer) -> torch.optim.Optimizer:
    """The optimizer whose state this rank holds: a ZeroRedundancyOptimizer's own AdamW, else itself."""
    return opt.optim if isinstance(opt, ZeroRedundancyOptimizer) else opt


def state_bytes(opt: torch.optim.Optimizer) -> int:
    """Bytes of optimizer state held by this rank (the moments and steps): what sharding saves."""
    total = 0
    for s in local_optimizer(opt).state.values():
        for v in (s or {}).values():
            if torch.is_tensor(v):
                total += v.numel() * v.element_size()
    return total


def full_moments(opt: torch.optim.Optimizer) -> dict[int, dict] | None:
    """Every parameter's AdamW state by its index in the param groups (the order of
    make_optimizer's names), on rank 0; None elsewhere. Sharded, each rank sends its part to rank 0
    first, so every rank calls this."""
    if isinstance(opt, ZeroRedundancyOptimizer):
        opt.consolidate_state_dict(to=0)
        if dist.get_rank() != 0:
            return None
    return opt.state_dict()["state"]


def load_full_moments(opt: torch.optim.Optimizer, state: dict[int, dict]) -> None:
    """Loads every parameter's state (by index); a ZeroRedundancyOptimizer keeps its own part."""
    groups = []
    index = 0
    for g in opt.param_groups:
        groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": list(range(index, index + len(g["params"])))})
        index += len(g["params"])
    opt.load_state_dict({"state": state, "param_groups": groups})


# ---- full: FSDP (torch >= 2.0, CUDA) ---------------------------------------------------------
# Never run in this project's CI (no GPU, torch 1.13): kept small and written against torch 2's
# documented APIs.

def wrap_fsdp(model: torch.nn.Module, device: torch.device, block: type) -> torch.nn.Module:
    """FULL_SHARD with one unit per transformer block and the rest (embeddings, final LayerNorm)
    in the root unit; use_orig_params keeps the parameter names, so AdamW's decay groups and the
    checkpoint names are those of the bare model."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP, ShardingStrategy
    from torch.distributed.fsdp.wrap import transformer_auto_wrap_policy

    policy = functools.partial(transformer_auto_wrap_policy, transformer_layer_cls={block})
    return FSDP(model, sharding_strategy=ShardingStrategy.FULL_SHARD, auto_wrap_policy=policy, device_id=device, use_orig_params=True)


def _full_state_dict(net: torch.nn.Module, rank0_only: bool):
    from torch.distributed.fsdp import FullOptimStateDictConfig, FullStateDictConfig, FullyShardedDataParallel as FSDP, StateDictType

    return FSDP.state_dict_type(net, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=rank0_only),
                                FullOptimStateDictConfig(offload_to_cpu=True, rank0_only=rank0_only))


def fsdp_gather(net: torch.nn.Module, opt: torch.optim.Optimizer, names: list[str]) -> tuple[dict[str, torch.Tensor], dict[str, dict]] | None:
    """The whole model's parameters and every parameter's AdamW state by name, gathered to rank 0
    (None elsewhere); every rank calls it."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    with _full_state_dict(net, rank0_only=True):
        params = net.state_dict()
        optim = FSDP.optim_state_dict(net, opt)
    if dist.get_rank() != 0:
        return None
    return {n: params[n] for n in names}, {n: optim["state"].get(n, {}) for n in names}


def fsdp_load_moments(net: torch.nn.Module, opt: torch.optim.Optimizer, state: dict[str, dict], names_by_group: list[list[str]]) -> None:
    """Every parameter's AdamW state by name, on every rank; FSDP keeps each rank's shard."""
    from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

    groups = [{**{k: v for k, v in g.items() if k != "params"}, "params": names} for g, names in zip(opt.param_groups, names_by_group)]
    with _full_state_dict(net, rank0_only=False):
        # Keywords: torch 2.0 takes (optim_state_dict, model, optim), later versions (model, optim, optim_state_dict).
        opt.load_state_dict(FSDP.optim_state_dict_to_load(model=net, optim=opt, optim_state_dict={"state": state, "param_groups": groups}))


def fsdp_clip(net: torch.nn.Module, clip: float) -> float:
    """The global gradient norm over all ranks' shards, clipping to `clip` (0: none)."""
    return float(net.clip_grad_norm_(clip if clip > 0 else float("inf")))


def fsdp_grad_scaler(enabled: bool):
    """fp16 loss scaling over sharded gradients (bf16 and float32 need none: a disabled scaler is a no-op)."""
    from torch.distributed.fsdp.sharded_grad_scaler import ShardedGradScaler

    return ShardedGradScaler(enabled=enabled)
