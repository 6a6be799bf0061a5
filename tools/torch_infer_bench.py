#!/usr/bin/env python3
"""PyTorch yardstick for inference speed, beside `npm run bench` (which runs it when Debian's
python3-torch is installed). The same GPT shape as the bench preset with random weights:

  generation: batch 1, N new tokens greedy from one token, with a KV cache and with full
              recompute of the last `ctx` tokens per step (tokens/s each);
  eval:       loglikelihood requests/s for the token sequences in --requests (a JSON list of
              [token ids, continuation length]), batched by length, longest first, padded.

Run: /usr/bin/python3 tools/torch_infer_bench.py --requests FILE [--new-tokens 256] [--threads 2]
Prints one JSON line.
"""
import argparse, json, math, resource, time
import torch
import torch.nn.functional as F

p = argparse.ArgumentParser()
for name, default in [("vocab", 50304), ("ctx", 128), ("layers", 4), ("heads", 4), ("embd", 256), ("threads", 2), ("new_tokens", 256), ("batch", 8)]:
    p.add_argument("--" + name.replace("_", "-"), dest=name, type=int, default=default)
p.add_argument("--requests", required=True)
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)
V, T, L, H, C = a.vocab, a.ctx, a.layers, a.heads, a.embd
D = C // H
P = {"wte": torch.randn(V, C) * 0.02, "wpe": torch.randn(T, C) * 0.02, "lnf_w": torch.ones(C), "lnf_b": torch.zeros(C)}
for i in range(L):
    for n, shape in [("attn_w", (C, 3 * C)), ("attn_b", (3 * C,)), ("proj_w", (C, C)), ("proj_b", (C,)), ("fc_w", (C, 4 * C)), ("fc_b", (4 * C,)), ("fcp_w", (4 * C, C)), ("fcp_b", (C,))]:
        P[f"{i}.{n}"] = torch.randn(*shape) * 0.02
    P[f"{i}.ln1_w"], P[f"{i}.ln1_b"], P[f"{i}.ln2_w"], P[f"{i}.ln2_b"] = torch.ones(C), torch.zeros(C), torch.ones(C), torch.zeros(C)


def forward(idx, pos0=0, cache=None, last_only=False):
    """idx [B, t]; with cache (list of per-layer (k, v) or None) appends to it and attends to all of it.
    last_only: logits for the last position only (what generation needs)."""
    B, t = idx.shape
    x = P["wte"][idx] + P["wpe"][pos0:pos0 + t]
    for i in range(L):
        h = F.layer_norm(x, (C,), P[f"{i}.ln1_w"], P[f"{i}.ln1_b"])
        q, k, v = (h @ P[f"{i}.attn_w"] + P[f"{i}.attn_b"]).split(C, dim=-1)
        q, k, v = (z.view(B, t, H, D).transpose(1, 2) for z in (q, k, v))
        if cache is not None:
            if cache[i] is not None:
                k, v = torch.cat([cache[i][0], k], 2), torch.cat([cache[i][1], v], 2)
            cache[i] = (k, v)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(D)
        s = k.shape[2]
        mask = torch.ones(t, s, dtype=torch.bool).triu(s - t + 1)
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        x = x + ((att @ v).transpose(1, 2).reshape(B, t, C) @ P[f"{i}.proj_w"] + P[f"{i}.proj_b"])
        h = F.layer_norm(x, (C,), P[f"{i}.ln2_w"], P[f"{i}.ln2_b"])
        x = x + (F.gelu(h @ P[f"{i}.fc_w"] + P[f"{i}.fc_b"], approximate="tanh") @ P[f"{i}.fcp_w"] + P[f"{i}.fcp_b"])
    if last_only:
        x = x[:, -1:]
    return F.layer_norm(x, (C,), P["lnf_w"], P["lnf_b"]) @ P["wte"].T


@torch.no_grad()
def generate(kv):
    ids = [V - 1]
    cache = [None] * L
    t0 = time.perf_counter()
    for _ in range(a.new_tokens):
        if kv:
            if len(ids) > T:  # window full: refill the cache from the last 3/4 of the window
                ids_w = ids[-(3 * T // 4):]
                cache = [None] * L
                logits = forward(torch.tensor([ids_w]), 0, cache, True)[0, -1]
            elif cache[0] is None:
                logits = forward(torch.tensor([ids]), 0, cache, True)[0, -1]
            else:
                logits = forward(torch.tensor([ids[-1:]]), len(ids) - 1, cache, True)[0, -1]
            if len(ids) > T:
                ids = ids_w
        else:
            window = ids[-T:]
            logits = forward(torch.tensor([window]), last_only=True)[0, -1]
        ids.append(int(logits.argmax()))
    return a.new_tokens / (time.perf_counter() - t0)


@torch.no_grad()
def score(requests):
    requests = sorted(requests, key=lambda r: -len(r[0]))
    t0 = time.perf_counter()
    for s in range(0, len(requests), a.batch):
        chunk = requests[s:s + a.batch]
        width = len(chunk[0][0])
        inp = torch.tensor([r[0] + [0] * (width - len(r[0])) for r in chunk])
        logp = forward(inp[:, :-1]).log_softmax(-1) if width > 1 else None
        for row, (toks, n) in enumerate(chunk):
            tgt = torch.tensor(toks[len(toks) - n:])
            lp = logp[row, len(toks) - n - 1:len(toks) - 1]
            float(lp.gather(-1, tgt[:, None]).sum())
            bool((lp.argmax(-1) == tgt).all())
    return len(requests) / (time.perf_counter() - t0)


requests = json.load(open(a.requests))
generate(True)  # warm-up
out = {
    "engine": "pytorch-" + torch.__version__, "threads": a.threads,
    "generation_kv_tokens_per_s": round(generate(True), 1),
    "generation_recompute_tokens_per_s": round(generate(False), 1),
    "loglikelihood_requests_per_s": round(score(requests), 1),
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}
print(json.dumps(out))
