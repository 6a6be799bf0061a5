"""Checkpoint folders in the project's format (src/core/engine/checkpoint.ts), so a run moves
between engines and generate, score, eval and --resume read what this engine writes:

  model.safetensors      the model: Hugging Face GPT-2 names, Conv1D [in, out] layout, float32,
                         wte with exactly the tokenizer's rows (each engine pads on load)
  config.json            GPT2Config keys (hf-config.ts)
  optimizer.safetensors  AdamW moments as "<name>.exp_avg" / "<name>.exp_avg_sq", the step in
                         the metadata (format gptw-adamw-v1)
  trainer_state.json     step, rngState, tokensSeen, elapsedSeconds

A folder is written under a temporary name and renamed whole, so `step-N` exists only complete.
Real Hugging Face GPT-2 folders (transformer. prefix, mask buffers, lm_head.weight) load too.
The safetensors reader and writer are here because the library is not a dependency.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
import tempfile
from dataclasses import dataclass, field

import torch

from .model import GPTConfig, padded_vocab

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
OPTIMIZER_FILE = "optimizer.safetensors"
TRAINER_FILE = "trainer_state.json"

_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}
_BUFFER = re.compile(r"^h\.\d+\.attn\.(bias|masked_bias)$")
_TANH_GELU = ("gelu_new", "gelu_pytorch_tanh", "gelu_fast")


# ---- safetensors ------------------------------------------------------------------------------

def read_safetensors(path: str) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors of a file (widened to float32) and its string metadata."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: not a valid safetensors file (shorter than the 8-byte header length).")
    (n,) = struct.unpack("<Q", blob[:8])
    if 8 + n > len(blob):
        raise ValueError(f"{path}: not a valid safetensors file (the header runs past the end).")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {}) or {}
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, h in header.items():
        if h["dtype"] not in _DTYPES:
            raise ValueError(f'{path}: tensor "{name}" has dtype {h["dtype"]}; only {", ".join(_DTYPES)} can be read.')
        begin, end = h["data_offsets"]
        raw = bytearray(data[begin:end])
        t = torch.frombuffer(raw, dtype=_DTYPES[h["dtype"]]) if raw else torch.empty(0, dtype=_DTYPES[h["dtype"]])
        out[name] = t.reshape(h["shape"]).float()
    return out, meta


def write_safetensors(path: str, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> None:
    """float32 tensors in the given order; the header padded with spaces to an 8-byte boundary."""
    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    offset = 0
    flat = []
    for name, t in tensors.items():
        t = t.detach().to("cpu", torch.float32).contiguous()
        nbytes = t.numel() * 4
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
        flat.append(t)
        offset += nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for t in flat:
            if t.numel():
                f.write(t.numpy().tobytes())
        f.flush()
        os.fsync(f.fileno())


# ---- config.json ------------------------------------------------------------------------------

def to_gpt2_config(c: GPTConfig) -> dict:
    """GPT2Config keys, as hf-config.ts toGPT2Config writes them."""
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
        "vocab_size": c.vocab_size, "n_positions": c.n_ctx, "n_ctx": c.n_ctx, "n_embd": c.n_embd,
        "n_layer": c.n_layer, "n_head": c.n_head, "n_inner": None, "activation_function": "gelu_new",
        "resid_pdrop": c.dropout, "embd_pdrop": c.dropout, "attn_pdrop": c.dropout,
        "layer_norm_epsilon": c.layer_norm_eps, "initializer_range": 0.02, "scale_attn_weights": True,
        "scale_attn_by_inverse_layer_idx": False, "reorder_and_upcast_attn": False, "tie_word_embeddings": True,
        "bos_token_id": 50256, "eos_token_id": 50256, "torch_dtype": "float32",
    }


def from_gpt2_config(g: dict, file: str) -> GPTConfig:
    """The model shape of a GPT2Config; refuses variants this engine does not compute."""
    def refuse(what: str) -> None:
        raise ValueError(f"{file}: {what}; this engine runs the standard GPT-2 architecture only.")

    if g.get("model_type", "gpt2") != "gpt2":
        refuse(f'model_type is "{g["model_type"]}", not "gpt2"')
    if g.get("n_inner") not in (None, 4 * g["n_embd"]):
        refuse(f"n_inner is {g['n_inner']}, not 4 x n_embd")
    if g.get("activation_function", "gelu_new") not in _TANH_GELU:
        refuse(f'activation_function is "{g["activation_function"]}", not tanh GELU')
    if g.get("scale_attn_weights") is False or g.get("scale_attn_by_inverse_layer_idx") is True:
        refuse("the attention scaling differs")
    if g.get("tie_word_embeddings") is False:
        refuse("tie_word_embeddings is false")
    n_ctx = g.get("n_positions") or g.get("n_ctx")
    if not n_ctx:
        raise ValueError(f"{file}: not a GPT-2 config: it has neither n_positions nor n_ctx.")
    # Older checkpoints of this project stored the padded rows with the real vocabulary beside them.
    vocab = g.get("gptw_vocab_size", g["vocab_size"])
    if g["vocab_size"] not in (vocab, padded_vocab(vocab)):
        raise ValueError(f"{file}: vocab_size {g['vocab_size']} is neither gptw_vocab_size {vocab} nor its padded size.")
    return GPTConfig(n_layer=g["n_layer"], n_head=g["n_head"], n_embd=g["n_embd"], n_ctx=n_ctx, vocab_size=vocab,
                     dropout=min(g.get("resid_pdrop", 0.0), 0.9), layer_norm_eps=g.get("layer_norm_epsilon", 1e-5))


# ---- folders ----------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    config: GPTConfig
    params: dict[str, torch.Tensor]  # our names; wte padded to config.vocab_padded rows
    optimizer_step: int | None = None
    exp_avg: dict[str, torch.Tensor] = field(default_factory=dict)
    exp_avg_sq: dict[str, torch.Tensor] = field(default_factory=dict)
    trainer: dict | None = None


def _pad_rows(t: torch.Tensor, rows: int) -> torch.Tensor:
    return t if t.shape[0] >= rows else torch.cat([t, t.new_zeros(rows - t.shape[0], *t.shape[1:])])


def _trim(name: str, t: torch.Tensor, c: GPTConfig) -> torch.Tensor:
    """Saved tensors hold exactly the tokenizer's rows of wte (and of its moments)."""
    return t[:c.vocab_size] if name == "wte.weight" else t


def save_checkpoint(folder: str, ckpt: Checkpoint) -> None:
    """Writes `folder` whole (replacing one that is there) from a temporary sibling."""
    c = ckpt.config
    parent = os.path.dirname(os.path.abspath(folder))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.tmp-", dir=parent)
    try:
        write_safetensors(os.path.join(tmp, MODEL_FILE), {n: _trim(n, t, c) for n, t in ckpt.params.items()}, {"format": "pt"})
        _write_json(os.path.join(tmp, CONFIG_FILE), to_gpt2_config(c))
        if ckpt.optimizer_step is not None:
            moments = {}
            for n in ckpt.params:
                moments[f"{n}.exp_avg"] = _trim(n, ckpt.exp_avg[n], c)
                moments[f"{n}.exp_avg_sq"] = _trim(n, ckpt.exp_avg_sq[n], c)
            write_safetensors(os.path.join(tmp, OPTIMIZER_FILE), moments, {"format": "gptw-adamw-v1", "step": str(ckpt.optimizer_step)})
        if ckpt.trainer is not None:
            _write_json(os.path.join(tmp, TRAINER_FILE), ckpt.trainer)
        old = None
        if os.path.exists(folder):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(folder)}.old-", dir=parent)
            os.rmdir(old)
            os.rename(folder, old)
        os.rename(tmp, folder)
        if old:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def load_checkpoint(folder: str, model_only: bool = False) -> Checkpoint:
    """Ours or a Hugging Face GPT-2 folder; wte (and its moments) padded to a multiple of 64 rows."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such checkpoint folder.")
    config_file = os.path.join(folder, CONFIG_FILE)
    with open(config_file) as f:
        config = from_gpt2_config(json.load(f), config_file)
    model_file = os.path.join(folder, MODEL_FILE)
    tensors, _ = read_safetensors(model_file)
    params: dict[str, torch.Tensor] = {}
    lm_head = None
    for stored, t in tensors.items():
        name = stored[len("transformer."):] if stored.startswith("transformer.") else stored
        if _BUFFER.match(name):
            continue
        if name == "lm_head.weight":
            lm_head = t
            continue
        params[name] = t
    V = config.vocab_size
    if lm_head is not None and not torch.equal(lm_head[:V], params["wte.weight"][:V]):
        raise ValueError(f'{model_file}: "lm_head.weight" differs from the token embedding; this engine ties the lm head to wte.')
    params["wte.weight"] = _pad_rows(params["wte.weight"], config.vocab_padded)
    ckpt = Checkpoint(config, params)
    opt_file = os.path.join(folder, OPTIMIZER_FILE)
    if not model_only and os.path.exists(opt_file):
        moments, meta = read_safetensors(opt_file)
        if meta.get("format") != "gptw-adamw-v1":
            raise ValueError(f"{opt_file}: not an optimizer state written by this app (format {meta.get('format')!r}).")
        ckpt.optimizer_step = int(meta["step"])
        for n, p in params.items():
            ckpt.exp_avg[n] = _pad_rows(moments[f"{n}.exp_avg"], p.shape[0])
            ckpt.exp_avg_sq[n] = _pad_rows(moments[f"{n}.exp_avg_sq"], p.shape[0])
    trainer_file = os.path.join(folder, TRAINER_FILE)
    if os.path.exists(trainer_file):
        with open(trainer_file) as f:
            ckpt.trainer = json.load(f)
    return ckpt


def list_checkpoints(root: str) -> list[tuple[int, str]]:
    """Complete step-N folders under a run's checkpoint root, oldest first."""
    if not os.path.isdir(root):
        return []
    found = [(int(e[5:]), os.path.join(root, e)) for e in os.listdir(root) if re.fullmatch(r"step-\d+", e) and os.path.isdir(os.path.join(root, e))]
    return sorted(found)


def prune_checkpoints(root: str, keep_last: int) -> list[int]:
    """Deletes all but the newest `keep_last` checkpoints and leftovers of interrupted saves."""
    removed = []
    for step, folder in list_checkpoints(root)[:-keep_last]:
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(step)
    for e in os.listdir(root):
        if re.match(r"^\.step-\d+\.(tmp|old)-", e):
            shutil.rmtree(os.path.join(root, e), ignore_errors=True)
    return removed


def _write_json(path: str, value: object) -> None:
    with open(path, "w") as f:
        json.dump(value, f, indent=2)
        f.write("\n")
