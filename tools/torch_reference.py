#!/usr/bin/python3
"""PyTorch reference for the GPT engine: builds GPT-2 (pre-LayerNorm blocks, causal multi-head
attention, tanh-GELU MLP, final LayerNorm, lm head tied to wte) from a safetensors checkpoint
folder and writes golden values -- logits, loss, and the gradients of named tensors for a fixed
batch -- that test/torch-reference.test.ts compares the tfjs engine against.

Needs Debian's PyTorch:  apt-get install -y python3-torch libopenblas0-pthread
Run with the system Python:

  /usr/bin/python3 tools/torch_reference.py regenerate
      rewrites the committed fixtures in test/goldens/ (tiny checkpoint, goldens, dtype file)
  /usr/bin/python3 tools/torch_reference.py goldens --checkpoint DIR --out FILE [--batch 2 --seq 12 --seed 0]
      goldens for any checkpoint folder (ours, or a Hugging Face GPT-2 one)
  /usr/bin/python3 tools/torch_reference.py make-checkpoint --out DIR [--hf-layout] [shape options]
      a random checkpoint with non-trivial weights

The maths runs in float64, so the goldens are the exact answer rounded to float32: what the
tfjs float32 engine is measured against. The safetensors reader/writer here is written from the
format's description, independently of src/workers/engine/safetensors.ts, so each checks the other.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDENS = os.path.join(ROOT, "test", "goldens")

# The committed fixture: small enough to keep in git, shaped to exercise every path:
# several heads, two layers, a sequence shorter than the context, and a vocabulary (100) that
# the engine pads to 128 rows.
TINY = dict(n_layer=2, n_head=4, n_embd=32, n_positions=16, vocab_size=100, layer_norm_epsilon=1e-5)
TINY_BATCH = dict(batch=2, seq=12, seed=0)
TINY_GRADS = ["wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.0.attn.c_attn.weight", "h.0.attn.c_attn.bias",
              "h.1.attn.c_proj.weight", "h.1.mlp.c_fc.weight", "h.1.mlp.c_proj.bias", "ln_f.weight", "ln_f.bias"]

DTYPES = {"F64": (torch.float64, 8), "F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}
NAMES = {v[0]: k for k, v in DTYPES.items()}


# ---- safetensors ------------------------------------------------------------------------------

def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    data = blob[8 + n:]
    out = {}
    for name, h in header.items():
        dtype, width = DTYPES[h["dtype"]]
        begin, end = h["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype) if end > begin else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(h["shape"]).clone()
    return out, meta


def write_safetensors(path, tensors, metadata=None):
    header, chunks, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        raw = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - (8 + len(text.encode())) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text.encode())))
        f.write(text.encode())
        for c in chunks:
            f.write(c)
    os.replace(tmp, path)


# ---- checkpoints ------------------------------------------------------------------------------

def padded(vocab):
    return (vocab + 63) // 64 * 64


def load_checkpoint(folder):
    """Config and float64 parameters by our names: no `transformer.` prefix, no mask buffers, wte padded."""
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("n_positions", cfg.get("n_ctx"))
    cfg.setdefault("layer_norm_epsilon", 1e-5)
    vocab = cfg.get("gptw_vocab_size", cfg["vocab_size"])
    tensors, _ = read_safetensors(os.path.join(folder, "model.safetensors"))
    params = {}
    for name, t in tensors.items():
        name = name[len("transformer."):] if name.startswith("transformer.") else name
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias") or name == "lm_head.weight":
            continue
        params[name] = t.to(torch.float64)
    wte = params["wte.weight"]
    if wte.shape[0] < padded(vocab):
        params["wte.weight"] = torch.cat([wte, wte.new_zeros(padded(vocab) - wte.shape[0], wte.shape[1])])
    return cfg, vocab, params


def make_checkpoint(folder, shape, seed, hf_layout):
    """Random weights scaled so activations are O(1): attention is far from uniform and every
    LayerNorm gain and bias differs from its default, so no term of the maths can hide."""
    g = torch.Generator().manual_seed(seed)
    C, L, V, T = shape["n_embd"], shape["n_layer"], shape["vocab_size"], shape["n_positions"]
    rows = V if hf_layout else padded(V)

    def normal(*size, std):
        return torch.randn(*size, generator=g, dtype=torch.float64) * std

    p = {"wte.weight": normal(V, C, std=0.5), "wpe.weight": normal(T, C, std=0.3)}
    if rows > V:
        p["wte.weight"] = torch.cat([p["wte.weight"], torch.zeros(rows - V, C, dtype=torch.float64)])
    for i in range(L):
        h = f"h.{i}."
        for ln in ("ln_1", "ln_2"):
            p[h + ln + ".weight"] = 1 + normal(C, std=0.2)
            p[h + ln + ".bias"] = normal(C, std=0.1)
        for name, fan_in, fan_out in (("attn.c_attn", C, 3 * C), ("attn.c_proj", C, C), ("mlp.c_fc", C, 4 * C), ("mlp.c_proj", 4 * C, C)):
            p[h + name + ".weight"] = normal(fan_in, fan_out, std=1 / math.sqrt(fan_in))
            p[h + name + ".bias"] = normal(fan_out, std=0.1)
    p["ln_f.weight"] = 1 + normal(C, std=0.2)
    p["ln_f.bias"] = normal(C, std=0.1)

    out = {k: v.to(torch.float32) for k, v in p.items()}
    cfg = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": rows, "n_positions": T, "n_ctx": T,
           "n_embd": C, "n_layer": L, "n_head": shape["n_head"], "n_inner": None, "activation_function": "gelu_new",
           "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "layer_norm_epsilon": shape["layer_norm_epsilon"],
           "tie_word_embeddings": True}
    if hf_layout:
        # As transformers' GPT2LMHeadModel saves: `transformer.` names, the causal-mask buffers,
        # an unpadded embedding, and (some versions) the tied head spelled out.
        out = {"transformer." + k: v for k, v in out.items()}
        for i in range(L):
            out[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(T, T)).reshape(1, 1, T, T)
        out["lm_head.weight"] = out["transformer.wte.weight"].clone()
    else:
        cfg["gptw_vocab_size"] = V
    os.makedirs(folder, exist_ok=True)
    write_safetensors(os.path.join(folder, "model.safetensors"), out, {"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")


# ---- the model --------------------------------------------------------------------------------

def forward(cfg, params, idx):
    """Logits [B, T, paddedVocab] of GPT-2 for token ids idx [B, T]."""
    B, T = idx.shape
    C, H = cfg["n_embd"], cfg["n_head"]
    eps = cfg["layer_norm_epsilon"]
    P = params
    x = P["wte.weight"][idx] + P["wpe.weight"][:T]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(cfg["n_layer"]):
        h = f"h.{i}."
        a = F.layer_norm(x, (C,), P[h + "ln_1.weight"], P[h + "ln_1.bias"], eps)
        q, k, v = (a @ P[h + "attn.c_attn.weight"] + P[h + "attn.c_attn.bias"]).split(C, dim=2)
        q, k, v = (t.reshape(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + y @ P[h + "attn.c_proj.weight"] + P[h + "attn.c_proj.bias"]
        m = F.layer_norm(x, (C,), P[h + "ln_2.weight"], P[h + "ln_2.bias"], eps)
        fc = F.gelu(m @ P[h + "mlp.c_fc.weight"] + P[h + "mlp.c_fc.bias"], approximate="tanh")
        x = x + fc @ P[h + "mlp.c_proj.weight"] + P[h + "mlp.c_proj.bias"]
    x = F.layer_norm(x, (C,), P["ln_f.weight"], P["ln_f.bias"], eps)
    return x @ P["wte.weight"].T


def goldens(folder, out, batch, seq, seed, grad_names):
    cfg, vocab, params = load_checkpoint(folder)
    if seq > cfg["n_positions"]:
        sys.exit(f"--seq {seq} is longer than the checkpoint's context of {cfg['n_positions']}")
    for p in params.values():
        p.requires_grad_(True)
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, vocab, (batch, seq + 1), generator=g)
    inputs, targets = tokens[:, :-1], tokens[:, 1:]
    logits = forward(cfg, params, inputs)
    # Padded vocabulary columns are never scored.
    loss = F.cross_entropy(logits[..., :vocab].reshape(-1, vocab), targets.reshape(-1))
    loss.backward()
    names = grad_names or list(params)
    result = {"inputs": inputs.float(), "targets": targets.float(), "logits": logits[..., :vocab].float(), "loss": loss.reshape(1).float()}
    for n in names:
        result["grad." + n] = params[n].grad.float()
    meta = {"format": "gptw-torch-golden-v1", "checkpoint": os.path.relpath(folder, os.path.dirname(os.path.abspath(out))),
            "torch": torch.__version__, "precision": "computed in float64, stored as float32",
            "batch": batch, "seq": seq, "seed": seed, "vocab": vocab, "grads": ",".join(names)}
    write_safetensors(out, result, meta)
    print(json.dumps({"out": out, "loss": loss.item(), "logits": list(result["logits"].shape), "grads": names}))


def dtype_fixture(out):
    """The same values as F32 and as F16 / BF16 (with their exact float32 widening), including
    zeros of both signs, subnormals, the largest finite values, infinities and NaN."""
    g = torch.Generator().manual_seed(1)
    values = torch.cat([torch.randn(64, generator=g) * 3,
                        torch.tensor([0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, 6.1e-5, 5.96e-8, 3e-6, 1e-40,
                                      3.0e38, float("inf"), float("-inf"), float("nan")])])
    h, b = values.half(), values.bfloat16()
    write_safetensors(out, {"f32": values, "f16": h, "f16_as_f32": h.float(), "bf16": b.reshape(2, -1),
                            "bf16_as_f32": b.float().reshape(2, -1)}, {"format": "gptw-dtype-fixture-v1"})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("regenerate", help="rewrite the committed fixtures in test/goldens/")
    g = sub.add_parser("goldens", help="logits, loss and gradients for a checkpoint folder")
    g.add_argument("--checkpoint", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--batch", type=int, default=2)
    g.add_argument("--seq", type=int, default=12)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--grads", default="", help="comma-separated parameter names (default: all)")
    m = sub.add_parser("make-checkpoint", help="a random checkpoint folder")
    m.add_argument("--out", required=True)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--hf-layout", action="store_true", help="transformer. prefix, mask buffers, unpadded wte, lm_head.weight")
    for k, v in TINY.items():
        m.add_argument("--" + k.replace("_", "-"), type=type(v), default=v)
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.cmd == "regenerate":
        os.makedirs(GOLDENS, exist_ok=True)
        ckpt = os.path.join(GOLDENS, "tiny-gpt-hf")
        make_checkpoint(ckpt, TINY, seed=0, hf_layout=True)
        goldens(ckpt, os.path.join(GOLDENS, "tiny-gpt.golden.safetensors"), grad_names=TINY_GRADS, **TINY_BATCH)
        dtype_fixture(os.path.join(GOLDENS, "dtypes.safetensors"))
    elif args.cmd == "goldens":
        goldens(args.checkpoint, args.out, args.batch, args.seq, args.seed, [n for n in args.grads.split(",") if n])
    elif args.cmd == "make-checkpoint":
        shape = {k: getattr(args, k) for k in TINY}
        make_checkpoint(args.out, shape, args.seed, args.hf_layout)


if __name__ == "__main__":
    main()
