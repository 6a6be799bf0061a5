"""The training loop: the embedded engine's (src/core/engine/trainer.ts, train-step.ts, adamw.ts,
schedule.ts) on PyTorch, one process per device, data parallel under torchrun.

  python3 -m gptw_torch train --config run.json --dataset DIR --out RUN_DIR
  torchrun --nnodes 1 --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:0 --nproc_per_node 2 -m gptw_torch train --config run.json ...

Each step: the next global batch from the shared sampler (data.py), this rank's micro-batches
forward and backward (gradients averaged over micro-batches and, by DDP, over ranks), clipping by
global norm, AdamW with decoupled decay on 2-D tensors at the schedule's learning rate; with the
config's `sharding` (sharding.py) AdamW's moments, or FSDP's everything, are split over the ranks. Rank 0
prints one JSON object per step on stdout (the embedded engine's metric fields plus throughput)
and saves checkpoints in the project's format under RUN_DIR/checkpoints/step-N; everything
meant for people goes to stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import faulthandler
import inspect
import json
import math
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel as DDP

from . import checkpoint as ck
from . import sharding as sh
from .config import TrainConfig, check_split, load_config
from .data import Mulberry32, micro_batches, open_split, sequential_batches
from .init import embedded_init
from .model import GPT, HAS_SDPA, Block, decays

# Dense bf16 peak FLOP/s of common training GPUs, for MFU when --peak-tflops is not given.
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 70.0, "RTX 4090": 165.0, "RTX 3090": 71.0}


def learning_rate(step: int, c: TrainConfig) -> float:
    """Linear warm-up, then cosine or linear decay to minLr, or constant (schedule.ts)."""
    lr, min_lr, warmup = c.optimizer.lr, c.optimizer.minLr, c.schedule.warmupSteps
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    if c.schedule.decay == "constant":
        return lr
    progress = min(1.0, max(0.0, (step - warmup) / max(1, c.steps - warmup)))
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if c.schedule.decay == "cosine" else 1 - progress
    return min_lr + (lr - min_lr) * shape


class PauseRequest:
    """SIGTERM or SIGINT asks the run to pause: it finishes the step, saves a checkpoint, prints a
    `paused` line and exits 0 (torchrun passes SIGTERM on to every rank). A second signal stops at once."""

    def __init__(self) -> None:
        self.requested = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise SystemExit(128 + signum)
        self.requested = True
        log(f"Pausing after this step ({signal.Signals(signum).name}); a second signal stops at once.")


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def master(self) -> bool:
        return self.rank == 0


def setup_distributed(device_type: str) -> Dist:
    """torchrun sets RANK / WORLD_SIZE / LOCAL_RANK: NCCL between GPUs, gloo between CPU processes."""
    if "RANK" not in os.environ or int(os.environ.get("WORLD_SIZE", "1")) == 1:
        return Dist()
    dist.init_process_group(backend="nccl" if device_type == "cuda" else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))


def host_memory() -> dict:
    """Rank 0's resident memory now and at its peak, in MB, as the embedded trainer reports its own (rssMb, peakRssMb)."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        with open("/proc/self/statm") as f:
            now = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        return {"rssMb": now, "peakRssMb": max(peak, now)}
    except (ImportError, OSError, ValueError):
        return {}  # not Linux: no figures rather than wrong ones


# Each rank's figures in the step line's `devices` list, in this order (one float64 each, gathered in one small collective).
DEVICE_FIELDS = ("pid", "rssMb", "peakRssMb", "stepSeconds", "memoryAllocatedBytes", "memoryBytes", "memoryReservedBytes", "optimizerStateBytes")


def device_figures(seconds: float, device: torch.device, optimizer_bytes: int) -> list[float]:
    """This rank's figures for the step: its pid, host memory now and at peak (MB), its own step
    time, on CUDA its GPU's allocated memory now, peak allocated and peak reserved (bytes, as
    the step line's top-level memoryBytes / memoryReservedBytes; NaN where there is none), and the
    bytes of optimizer state it holds (less with sharding)."""
    mem = host_memory()
    nan = float("nan")
    cuda = device.type == "cuda"
    return [float(os.getpid()), mem.get("rssMb", nan), mem.get("peakRssMb", nan), seconds,
            float(torch.cuda.memory_allocated(device)) if cuda else nan,
            float(torch.cuda.max_memory_allocated(device)) if cuda else nan,
            float(torch.cuda.max_memory_reserved(device)) if cuda else nan, float(optimizer_bytes)]


class DeviceGather:
    """Every rank's figures to rank 0, once per step: one all_gather of a few float64s, started
    after the step's time is taken (so it is not in it) and waited for by rank 0 only when it
    prints the step line. NCCL gathers device tensors, gloo host ones."""

    def __init__(self, d: Dist, device: torch.device) -> None:
        self.d, self.device = d, device
        self.work = None
        self.parts: list[torch.Tensor] = []

    def start(self, figures: list[float]) -> None:
        mine = torch.tensor(figures, dtype=torch.float64, device=self.device)
        if self.d.world == 1:
            self.parts, self.work = [mine], None
            return
        self.parts = [torch.empty_like(mine) for _ in range(self.d.world)]
        self.work = dist.all_gather(self.parts, mine, async_op=True)

    def finish(self) -> list[dict]:
        """Waits for the gather; on rank 0, one record per rank (NaN figures left out)."""
        if self.work is not None:
            self.work.wait()
            self.work = None
        if not self.d.master:
            return []
        out = []
        for rank, t in enumerate(self.parts):
            values = t.tolist()
            record = {"rank": rank}
            record.update({k: (int(v) if k == "pid" else v) for k, v in zip(DEVICE_FIELDS, values) if math.isfinite(v)})
            out.append(record)
        return out


def emit(record: dict) -> None:
    """One JSON object per line on stdout: what the app and `gptw train --json` read."""
    _write("stdout", json.dumps(record))


def log(text: str) -> None:
    _write("stderr", text)


def _write(stream: str, text: str) -> None:
    try:
        print(text, file=getattr(sys, stream), flush=True)
    except BrokenPipeError:
        # Nobody reads this run any more (the app's worker was killed, and with_parent has set off
        # the pause): write on into nothing and go on to the checkpoint the pause saves.
        setattr(sys, stream, open(os.devnull, "w"))


def make_optimizer(model: torch.nn.Module, c: TrainConfig, device_type: str, sharding: str) -> tuple[torch.optim.Optimizer, list[list[str]]]:
    """AdamW with weight decay on matrices and embeddings only, its moments split over the ranks
    with sharding `optimizer`; returns it and each param group's parameter names (the optimizer's
    order, to map its state to checkpoint names)."""
    named = dict(model.named_parameters())
    decay = [n for n in named if decays(n)]
    no_decay = [n for n in named if not decays(n)]
    groups = [{"params": [named[n] for n in decay], "weight_decay": c.optimizer.weightDecay},
              {"params": [named[n] for n in no_decay], "weight_decay": 0.0}]
    extra = {}
    if device_type == "cuda" and "fused" in inspect.signature(torch.optim.AdamW).parameters:
        extra["fused"] = True
    settings = dict(lr=c.optimizer.lr, betas=(c.optimizer.beta1, c.optimizer.beta2), eps=c.optimizer.eps, **extra)
    opt = sh.zero_optimizer(groups, **settings) if sharding == "optimizer" else torch.optim.AdamW(groups, **settings)
    return opt, [decay, no_decay]


def checkpoint_moments(ckpt: ck.Checkpoint, n: str) -> dict:
    return {"step": torch.tensor(float(ckpt.optimizer_step)), "exp_avg": ckpt.exp_avg[n], "exp_avg_sq": ckpt.exp_avg_sq[n]}


def restore_optimizer(net: torch.nn.Module, opt: torch.optim.Optimizer, groups: list[list[str]], sharding: str, ckpt: ck.Checkpoint) -> None:
    """Loads the checkpoint's full moments and step through load_state_dict, which places them (and
    the step, as each torch version and the fused kernel want it) on the parameters' device; a
    sharded optimizer keeps its own part."""
    order = [n for g in groups for n in g]
    if sharding == "full":
        sh.fsdp_load_moments(net, opt, {n: checkpoint_moments(ckpt, n) for n in order}, groups)
    else:
        sh.load_full_moments(opt, {i: checkpoint_moments(ckpt, n) for i, n in enumerate(order)})


def gather_snapshot(model: GPT, names: list[str], net: torch.nn.Module, opt: torch.optim.Optimizer, groups: list[list[str]], sharding: str, trainer: dict) -> ck.Checkpoint | None:
    """The checkpoint of this moment with the whole model and every parameter's moments, on rank 0
    (None elsewhere), its tensors in the model's order `names`. Sharded, every rank takes part:
    each sends its share to rank 0."""
    order = [n for g in groups for n in g]
    if sharding == "full":
        gathered = sh.fsdp_gather(net, opt, names)
        if gathered is None:
            return None
        raw_params, by_name = gathered
    else:
        by_index = sh.full_moments(opt)
        if by_index is None:
            return None
        raw_params = dict(model.named_parameters())
        by_name = {n: by_index.get(i, {}) for i, n in enumerate(order)}
    params = {n: raw_params[n].detach().to("cpu", torch.float32).clone() for n in names}
    first = by_name[order[0]]
    out = ck.Checkpoint(model.config, params, optimizer_step=int(first["step"]) if first else 0, trainer=dict(trainer))
    for n in order:
        s = by_name[n]
        out.exp_avg[n] = s["exp_avg"].detach().to("cpu", torch.float32).clone() if s else torch.zeros_like(params[n])
        out.exp_avg_sq[n] = s["exp_avg_sq"].detach().to("cpu", torch.float32).clone() if s else torch.zeros_like(params[n])
    return out


def check_shape(found: ck.GPTConfig, want: ck.GPTConfig, where: str) -> None:
    keys = ("n_layer", "n_head", "n_embd", "n_ctx", "vocab_size")
    diff = [f"{k} is {getattr(found, k)} in the checkpoint, {getattr(want, k)} in the config" for k in keys if getattr(found, k) != getattr(want, k)]
    if diff:
        raise SystemExit(f"{where}: the checkpoint's model does not match the config: {'; '.join(diff)}.")


def pick_dtype(requested: str, device_type: str) -> torch.dtype:
    if device_type != "cuda" or requested == "float32":
        return torch.float32
    if requested == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bfloat16": torch.bfloat16, "float16": torch.float16}[requested]


def grad_scaler(enabled: bool):
    """fp16 needs loss scaling; bf16 and float32 do not (a disabled scaler is a no-op)."""
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)


@torch.no_grad()
def clip_gradients(model: GPT, clip: float) -> float:
    """The global gradient norm before clipping, and clipping to `clip` (0: none) as train-step.ts
    does. The squares are summed in float64: a float32 norm over millions of small entries (the
    embedding's) drifts by about 3e-5 relative, enough to tell the engines apart."""
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    norm = float(torch.stack([torch.linalg.vector_norm(g, dtype=torch.float64) for g in grads]).norm())  # one device sync
    if clip > 0 and norm > clip:
        factor = clip / (norm + 1e-6)
        for g in grads:
            g.mul_(factor)
    return norm


@torch.no_grad()
def validation_loss(model: GPT, val: np.ndarray | None, c: TrainConfig, world: int, device: torch.device, autocast) -> float | None:
    """Mean loss over up to eval.batches consecutive windows of the validation split (trainer.ts validationLoss)."""
    if val is None or len(val) < c.model.n_ctx + 1:
        return None
    model.eval()
    total, rows = 0.0, 0
    for b in sequential_batches(val, max(1, c.batchSize // world), c.model.n_ctx, c.eval.batches):
        with autocast():
            _, loss = model(torch.from_numpy(b.inputs).to(device), torch.from_numpy(b.targets).to(device))
        total += loss.item() * len(b.inputs)
        rows += len(b.inputs)
    model.train()
    return total / rows if rows else None


def train(args: argparse.Namespace) -> int:
    # `kill -USR2 PID` prints every thread's Python stack to stderr: where a hung rank waits.
    faulthandler.register(signal.SIGUSR2, all_threads=True)
    c, files = load_config(args.config)
    dataset = args.dataset or files.dataset or c.dataset
    if not dataset:
        raise SystemExit("No dataset: pass --dataset DIR (a token shard folder with meta.json).")
    run_dir = args.out or files.run_dir
    if not run_dir:
        raise SystemExit("No run folder: pass --out DIR (checkpoints go to DIR/checkpoints).")
    resume = args.resume or files.resume
    pause = PauseRequest()  # from the start: a pause asked for during set-up takes effect after the first step

    device_type = "cuda" if args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available()) else "cpu"
    d = setup_distributed(device_type)
    if d.world > 1:
        # Where each rank runs, for a failure message: torchrun's summary names a failed rank's pid, not its node.
        log(f"rank {d.rank} (pid {os.getpid()}) runs on {os.environ.get('SLURMD_NODENAME') or socket.gethostname()}")
    check_split(c, d.world)
    sharding = sh.check_sharding(c.sharding, device_type, d.world)
    if sharding != c.sharding and d.master:
        log(f"sharding {c.sharding} with one process: there is no other rank to hold a share of the optimizer state; training unsharded.")
    device = torch.device(f"cuda:{d.local_rank}" if device_type == "cuda" else "cpu")
    if device_type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cuda.matmul.allow_tf32 = not args.no_tf32
        torch.backends.cudnn.allow_tf32 = not args.no_tf32
    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = pick_dtype(args.dtype, device_type)
    autocast = (lambda: torch.autocast(device_type="cuda", dtype=dtype)) if dtype != torch.float32 else contextlib.nullcontext

    train_tokens = open_split(dataset, "train")
    if train_tokens is None:
        raise SystemExit(f"Token shard folder {dataset} has no train split.")
    val_tokens = open_split(dataset, "val")

    # The model, from scratch, from a checkpoint's weights (--init: fine-tuning), or resumed.
    model = GPT(c.model)
    state = {"step": 0, "rngState": c.seed, "tokensSeen": 0, "elapsedSeconds": 0.0}
    loaded = None
    if resume or args.init:
        source = resume or args.init
        loaded = ck.load_checkpoint(source, model_only=not resume)
        check_shape(loaded.config, c.model, source)
        model.load_state_dict(loaded.params)
        if resume:
            if loaded.optimizer_step is None or loaded.trainer is None:
                raise SystemExit(f"{resume} has no optimizer or trainer state: it cannot be resumed (it may be a model-only checkpoint).")
            state = {k: loaded.trainer[k] for k in state}
            state["elapsedSeconds"] = float(state["elapsedSeconds"])
    else:
        started = time.perf_counter()
        if args.fast_init:
            model.init_weights(c.seed)
        else:
            embedded_init(model, c.model.n_layer, c.model.vocab_size, c.seed)
        if d.master:
            log(f"Initialised {'with torch' if args.fast_init else 'as the embedded engine does'} (seed {c.seed}) in {time.perf_counter() - started:.1f}s.")
    param_names = [n for n, _ in model.named_parameters()]
    n_params, flops_per_token = model.num_params(), model.flops_per_token()  # before FSDP leaves each rank its shard

    net: torch.nn.Module = model
    if sharding == "full":
        net = sh.wrap_fsdp(model, device, Block)  # before the optimizer: FSDP's parameters are the ones it steps
    else:
        model.to(device)
    sharded = net  # the FSDP module itself (for its state dicts and clipping), whatever compile wraps around it
    opt, groups = make_optimizer(net, c, device_type, sharding)
    if resume and loaded is not None:
        restore_optimizer(net, opt, groups, sharding, loaded)
    scaler = sh.fsdp_grad_scaler(dtype == torch.float16) if sharding == "full" else grad_scaler(dtype == torch.float16)

    compiled = False
    if args.compile:
        if hasattr(torch, "compile"):
            net = torch.compile(net)
            compiled = True
        elif d.master:
            log("torch.compile is not available in this torch version: running eagerly.")
    if d.world > 1 and sharding != "full":
        net = DDP(net, device_ids=[d.local_rank] if device_type == "cuda" else None)

    peak = args.peak_tflops
    gpu_name = torch.cuda.get_device_name(device) if device_type == "cuda" else None
    if peak is None and gpu_name:
        peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in gpu_name), None)
    if d.master:
        emit({"type": "start", "torch": torch.__version__, "device": gpu_name or "cpu", "deviceType": device_type, "dtype": str(dtype).replace("torch.", ""),
              "world": d.world, "params": n_params, "sdpa": HAS_SDPA, "compile": compiled, "sharding": sharding, "step": state["step"], "steps": c.steps,
              "resumedFrom": resume, "initFrom": args.init, "peakTflops": peak})
        log(f"{n_params:,} parameters on {d.world} x {gpu_name or 'cpu'} ({str(dtype).replace('torch.', '')}), "
            f"{len(train_tokens):,} train tokens; sharding {sharding}; step {state['step']} of {c.steps}.")

    rng = Mulberry32(state["rngState"])
    devices = DeviceGather(d, device)
    checkpoints = os.path.join(run_dir, "checkpoints")
    tokens_per_step = c.batchSize * c.model.n_ctx

    def save_checkpoint(snapshot: ck.Checkpoint, val_loss: float | None) -> str:
        folder = os.path.join(checkpoints, f"step-{state['step']}")
        ck.save_checkpoint(folder, snapshot)
        ck.prune_checkpoints(checkpoints, c.checkpoint.keepLast)
        size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
        emit({"type": "checkpoint", "step": state["step"], "dir": os.path.abspath(folder), "bytes": size, "valLoss": val_loss})
        return folder

    while state["step"] < c.steps:
        started = time.perf_counter()
        lr = learning_rate(state["step"], c)
        for g in opt.param_groups:
            g["lr"] = lr
        micro = micro_batches(train_tokens, c.batchSize, c.microBatches, c.model.n_ctx, rng, d.rank, d.world)
        loss_sum = torch.zeros((), device=device)
        for i, mb in enumerate(micro):
            x = torch.from_numpy(mb.inputs).to(device, non_blocking=True)
            y = torch.from_numpy(mb.targets).to(device, non_blocking=True)
            # DDP all-reduces on the last micro-batch's backward only.
            sync = contextlib.nullcontext() if d.world == 1 or i == len(micro) - 1 else net.no_sync()
            with sync:
                with autocast():
                    _, loss = net(x, y)
                loss = loss / len(micro)
                scaler.scale(loss).backward()
            loss_sum += loss.detach()
        # The ranks agree on the mean loss and on whether any of them was asked to pause, in one all-reduce.
        if d.master and args.pause_file and not pause.requested and os.path.exists(args.pause_file):
            pause.requested = True
            log(f"Pausing after this step ({args.pause_file} appeared).")
        shared = torch.stack([loss_sum, torch.tensor(float(pause.requested), device=device)])
        if d.world > 1:
            dist.all_reduce(shared)
        loss_sum = shared[0] / d.world
        pausing = bool(shared[1] > 0)
        scaler.unscale_(opt)
        grad_norm = sh.fsdp_clip(sharded, c.optimizer.gradClip) if sharding == "full" else clip_gradients(model, c.optimizer.gradClip)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        loss_value = loss_sum.item()  # waits for the device: the step's time is complete
        seconds = time.perf_counter() - started
        state["step"] += 1
        state["rngState"] = rng.state
        state["tokensSeen"] += tokens_per_step
        state["elapsedSeconds"] += seconds
        if not math.isfinite(loss_value):
            raise SystemExit(f"The loss became {loss_value} at step {state['step']}: lower the learning rate (optimizer.lr) or enable gradient clipping.")
        devices.start(device_figures(seconds, device, sh.state_bytes(opt)))  # under way while rank 0 validates; not in the step's time

        last = state["step"] == c.steps
        val_loss = None
        # FSDP's forward needs every rank (each holds a shard); otherwise rank 0 validates alone.
        if c.eval.interval > 0 and (state["step"] % c.eval.interval == 0 or last) and (d.master or sharding == "full"):
            val_loss = validation_loss(net if sharding == "full" else model, val_tokens, c, d.world, device, autocast)
        if d.master:
            tps = tokens_per_step / seconds
            record = {"type": "step", "step": state["step"], "loss": loss_value, "lr": lr, "gradNorm": grad_norm,
                      "tokensPerSec": tps, "tokens": state["tokensSeen"], "elapsed": state["elapsedSeconds"]}
            if val_loss is not None:
                record["valLoss"] = val_loss
            if peak:
                record["mfu"] = flops_per_token * tps / (peak * 1e12 * d.world)
            record.update(host_memory())
            if device_type == "cuda":
                record["memoryBytes"] = torch.cuda.max_memory_allocated(device)
                record["memoryReservedBytes"] = torch.cuda.max_memory_reserved(device)
            # Every rank's own figures (the top-level ones above stay rank 0's, for older readers).
            record["devices"] = devices.finish()
            emit(record)
        else:
            devices.finish()
        due = c.checkpoint.interval > 0 and state["step"] % c.checkpoint.interval == 0
        if (due or last or pausing) and (d.master or sharding != "none"):
            # Sharded, every rank sends rank 0 its share of the moments (or FSDP's parameters) first.
            snap = gather_snapshot(model, param_names, sharded, opt, groups, sharding, state)
            if d.master and snap is not None:
                folder = save_checkpoint(snap, val_loss)
                if pausing and not last:
                    emit({"type": "paused", "step": state["step"], "dir": os.path.abspath(folder)})
        if pausing and not last:
            break
    if d.master and state["step"] == c.steps:
        emit({"type": "done", "steps": state["step"], "tokens": state["tokensSeen"], "seconds": state["elapsedSeconds"]})
    if d.world > 1:
        dist.barrier()
        leave_process_group()
    return 0


def leave_process_group() -> None:
    """Ends a rank of a finished (or paused) data-parallel run without tearing its process group down.

    torch 1.13's gloo group can deadlock in its destructor: DDP's reducer drops the last reference
    while the main thread holds the GIL and joins gloo's worker threads, and a worker that frees a
    tensor Python handed a collective waits for the GIL. The rank then never exits and torchrun
    waits on it (seen about once in 25 two-launch runs on a loaded machine, after rank 0 had
    finished). Every rank has passed the final barrier here and written what it had to; the
    process ends at once, its output flushed, with no destructor to wait for.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="the TrainConfig JSON (or the train worker's parameters with config, datasetDir, runDir, resumeDir)")
    p.add_argument("--dataset", help="token shard folder (train.bin, val.bin, meta.json); overrides the config's")
    p.add_argument("--out", help="the run folder; checkpoints go to OUT/checkpoints/step-N")
    p.add_argument("--resume", help="continue from this checkpoint folder: weights, optimizer moments, step and data position")
    p.add_argument("--init", help="start a new run from this checkpoint's or Hugging Face GPT-2 folder's weights (fine-tuning)")
    p.add_argument("--fast-init", action="store_true",
                   help="initialise with torch's generator (same distribution) instead of the embedded engine's exact numbers, which take ~1 s per million parameters")
    p.add_argument("--pause-file", help="pause (checkpoint, exit 0) after the step in which this file appears, as on SIGTERM: for launchers whose signals can be lost (Slurm)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--dtype", choices=["auto", "float32", "bfloat16", "float16"], default="auto",
                   help="autocast dtype on CUDA (auto: bfloat16 where supported, else float16 with a gradient scaler); the CPU runs float32")
    p.add_argument("--compile", action="store_true", help="torch.compile the model (torch >= 2.0)")
    p.add_argument("--no-tf32", action="store_true", help="keep float32 matmuls exact on CUDA (TF32 is on by default)")
    p.add_argument("--threads", type=int, default=0, help="CPU threads per process (0: torch's default)")
    p.add_argument("--peak-tflops", type=float, help="the device's peak FLOP/s in TFLOP/s, for MFU")
