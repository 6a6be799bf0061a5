"""A model server for evaluation and generation on the PyTorch engine: one long-lived process per
checkpoint and device (src/core/engine/pytorch/model-server.ts starts and talks to it).

Protocol: JSON lines. The server prints one `{"type": "ready", ...}` line (device, dtype, model
shape, the weights' bytes) once the weights are loaded, then answers each request line `{"id": N, "op": ..., ...}`
with one line `{"id": N, "ok": true, ...}` or `{"id": N, "ok": false, "error": "..."}`, in order.
Ops:
  score   items [{input, continuation}] -> results [{logprob, isGreedy}]: log P(continuation) from
          the last len(continuation) positions of input (the harness's loglikelihood; rolling
          windows are items too), and whether each continuation token is the argmax
  next    seqs [[ids]] -> tokens: the argmax next token after each sequence
  greedy  seqs [[ids]], steps -> tokens [[ids]]: up to `steps` argmax tokens after each sequence,
          decoded with a KV cache over the batch (left-padded); fewer where the context would
          overflow (at a full window, one: the client slides the window and asks again). The
          client checks its stop strings after each token, as greedy-until does, and asks again
  decode  session, ids, reset? -> logits: appends ids to a session's KV cache and returns the next
          token's logits over the padded vocabulary as base64 float32 (token-by-token sampling;
          the client samples, so one seed chooses the same tokens as on the embedded engine)
  step    sessions, ids -> logits: one token appended to each of several sessions' caches in one
          forward (the caches left-padded to the longest and stacked, the padding masked out),
          each next token's logits as decode gives them: the served API's sequences decode together
  close   session: forgets a session's cache
  quit    ends the process
Tokens are GPT-2 ids: the client tokenizes, so both engines see the same inputs. Scores are taken
over the real vocabulary only (the embedding's padded rows are never scored or chosen), in float32
whatever the weights' dtype. Batches are right-padded: the causal mask keeps the padding out of
every real position, as src/core/eval/engine/token-scorer.ts does.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import load_checkpoint
from .model import GPT

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# Tests only: a session name whose cache extension in a batched `step` raises, standing in for a
# failure part-way through the step's cache updates (CUDA out of memory in one of its cats) that no
# input can cause on the CPU, since step checks its inputs before it runs (test/pytorch/decode-step.test.ts).
FAIL_STEP_ENV = "GPTW_SERVE_TEST_FAIL_STEP_AT"


def choose_dtype(asked: str, device: torch.device, purpose: str) -> torch.dtype:
    """The weights' dtype for what was asked. auto: bfloat16 for generation on a CUDA device that
    supports it (half the memory and faster decoding; a sampled or greedy token rarely changes), but
    float32 for scoring (loglikelihood tasks sum per-token log-probabilities and compare choices
    that often differ in the third digit, where bfloat16's 8-bit mantissa would move them; eval
    results stay comparable with the embedded engine's within 1e-4) and on the CPU. bfloat16 asked
    where it cannot run (the CPU, a GPU without bf16) is refused, never silently changed."""
    if asked == "auto":
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return torch.bfloat16 if bf16 and purpose == "generate" else torch.float32
    if asked == "bfloat16" and device.type != "cuda":
        raise ValueError("bfloat16 was asked on the CPU, which runs the PyTorch engine in float32 only: ask float32 or auto there")
    if asked == "bfloat16" and not torch.cuda.is_bf16_supported():
        raise ValueError(f"bfloat16 was asked on {device}, which does not support it ({torch.cuda.get_device_name(device)}): ask float32 or auto")
    return DTYPES[asked]


def weight_bytes(model: torch.nn.Module) -> int:
    """The bytes the weights take in the dtype they were loaded in (bfloat16: 2 a parameter,
    float32: 4): every parameter tensor once (the tied lm head is the embedding)."""
    return sum(p.numel() * p.element_size() for p in model.parameters())


@dataclass
class Session:
    """One sequence's keys and values per layer ([1, heads, positions, head size]) and its length."""

    past: list[tuple[torch.Tensor, torch.Tensor]] = field(default_factory=list)
    length: int = 0


class ModelServer:
    def __init__(self, folder: str, device: str, dtype: str, batch_size: int, purpose: str = "score") -> None:
        self.device = torch.device(device)
        self.dtype = choose_dtype(dtype, self.device, purpose)
        ckpt = load_checkpoint(folder, model_only=True)
        self.config = ckpt.config
        model = GPT(ckpt.config)
        model.load_state_dict(ckpt.params)
        self.model = model.to(self.device, self.dtype).eval()
        self.batch_size = batch_size
        self.sessions: dict[str, Session] = {}
        self.fail_step_at = os.environ.get(FAIL_STEP_ENV)

    def ready(self) -> dict[str, Any]:
        c = self.config
        return {
            "type": "ready",
            "device": str(self.device),
            "dtype": "bfloat16" if self.dtype == torch.bfloat16 else "float32",
            "torch": torch.__version__,
            "nLayer": c.n_layer,
            "nHead": c.n_head,
            "nEmbd": c.n_embd,
            "nCtx": c.n_ctx,
            "vocabSize": c.vocab_size,
            "vocabPadded": c.vocab_padded,
            "layerNormEps": c.layer_norm_eps,
            "weightBytes": weight_bytes(self.model),
        }

    # ---- forward passes ----------------------------------------------------------------------

    def _hidden(self, ids: torch.Tensor) -> torch.Tensor:
        """Final-LayerNorm hidden states [B, T, C] of right-padded ids [B, T]."""
        m = self.model
        T = ids.shape[1]
        if T > self.config.n_ctx:
            raise ValueError(f"a sequence of {T} tokens is longer than the model's context of {self.config.n_ctx}")
        x = m.wte(ids) + m.wpe.weight[:T]
        for block in m.h:
            x = block(x)
        return m.ln_f(x)

    def _head(self, rows: torch.Tensor) -> torch.Tensor:
        """float32 logits over the real vocabulary for hidden rows [N, C]."""
        V = self.config.vocab_size
        return (rows @ self.model.wte.weight[:V].T).float()

    def _batch(self, seqs: list[list[int]]) -> torch.Tensor:
        T = max(len(s) for s in seqs)
        ids = np.zeros((len(seqs), T), dtype=np.int64)  # padding id 0: seen only after the real positions
        for b, s in enumerate(seqs):
            ids[b, : len(s)] = s
        return torch.from_numpy(ids).to(self.device)

    @torch.no_grad()
    def score(self, items: list[dict[str, list[int]]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = [{}] * len(items)
        order = sorted(range(len(items)), key=lambda i: (-len(items[i]["input"]), i))
        for s in range(0, len(order), self.batch_size):
            batch = order[s : s + self.batch_size]
            seqs = [items[i]["input"] for i in batch]
            rows, targets = [], []
            for b, i in enumerate(batch):
                inp, cont = items[i]["input"], items[i]["continuation"]
                if not 1 <= len(cont) <= len(inp):
                    raise ValueError(f"cannot score {len(cont)} continuation tokens from an input of {len(inp)}")
                rows.extend((b, len(inp) - len(cont) + j) for j in range(len(cont)))
                targets.extend(cont)
            h = self._hidden(self._batch(seqs))
            bi = torch.tensor([r[0] for r in rows], device=self.device)
            ti = torch.tensor([r[1] for r in rows], device=self.device)
            logits = self._head(h[bi, ti])
            tgt = torch.tensor(targets, device=self.device)
            logprobs = (logits.gather(1, tgt[:, None])[:, 0] - torch.logsumexp(logits, 1)).cpu().numpy()
            greedy = (logits.argmax(1) == tgt).cpu().numpy()
            at = 0
            for i in batch:
                n = len(items[i]["continuation"])
                # float32 terms summed in float64, as the embedded engine sums them in JavaScript numbers
                out[i] = {"logprob": float(np.sum(logprobs[at : at + n], dtype=np.float64)), "isGreedy": bool(greedy[at : at + n].all())}
                at += n
        return out

    @torch.no_grad()
    def next_tokens(self, seqs: list[list[int]]) -> list[int]:
        out = [0] * len(seqs)
        order = sorted(range(len(seqs)), key=lambda i: (-len(seqs[i]), i))
        for s in range(0, len(order), self.batch_size):
            batch = order[s : s + self.batch_size]
            h = self._hidden(self._batch([seqs[i] for i in batch]))
            last = torch.tensor([len(seqs[i]) - 1 for i in batch], device=self.device)
            tokens = self._head(h[torch.arange(len(batch), device=self.device), last]).argmax(1).tolist()
            for i, t in zip(batch, tokens):
                out[i] = int(t)
        return out

    def _step(self, ids: torch.Tensor, pos: torch.Tensor, valid: torch.Tensor, past: list[tuple[torch.Tensor, torch.Tensor]]) -> torch.Tensor:
        """One pass of new tokens ids [B, T] at positions pos [B, T] over cached keys / values
        (extended in place); valid [B, P + T] marks real (not padding) keys. Returns the final
        hidden states [B, T, C]."""
        m, c = self.model, self.config
        B, T = ids.shape
        H, C = c.n_head, c.n_embd
        P = valid.shape[1] - T
        x = m.wte(ids) + m.wpe(pos)
        # query t (cache index P + t) sees real keys at indices <= P + t; a padding query sees itself
        # too, so no softmax row is empty (its output is never used)
        idx = torch.arange(P + T, device=self.device)
        mask = (idx[None, :] <= (P + torch.arange(T, device=self.device))[:, None])[None] & valid[:, None, :]
        mask = mask | (idx[None, None, :] == (P + torch.arange(T, device=self.device))[None, :, None])
        for layer, block in enumerate(m.h):
            q, k, v = block.attn.c_attn(block.ln_1(x)).split(C, dim=2)
            q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
            if len(past) > layer:
                k, v = torch.cat([past[layer][0], k], 2), torch.cat([past[layer][1], v], 2)
                past[layer] = (k, v)
            else:
                past.append((k, v))
            att = (q @ k.transpose(-2, -1)).float() * (1.0 / math.sqrt(C // H))
            att = att.masked_fill(~mask[:, None], float("-inf")).softmax(-1).to(v.dtype)
            y = (att @ v).transpose(1, 2).reshape(B, T, C)
            x = x + block.attn.c_proj(y)
            x = x + block.mlp(block.ln_2(x))
        return m.ln_f(x)

    @torch.no_grad()
    def greedy(self, seqs: list[list[int]], steps: int) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in seqs]
        n = self.config.n_ctx
        order = sorted(range(len(seqs)), key=lambda i: (-len(seqs[i]), i))
        for s in range(0, len(order), self.batch_size):
            batch = order[s : s + self.batch_size]
            lengths = [len(seqs[i]) for i in batch]
            L = lengths[0]  # the longest: it decides how many tokens fit
            if L > n:
                raise ValueError(f"a sequence of {L} tokens is longer than the model's context of {n}")
            count = max(1, min(steps, n - L + 1))
            ids = np.zeros((len(batch), L), dtype=np.int64)
            pos = np.zeros((len(batch), L), dtype=np.int64)
            valid = np.zeros((len(batch), L), dtype=bool)
            for b, i in enumerate(batch):
                pad = L - lengths[b]
                ids[b, pad:] = seqs[i]
                pos[b, pad:] = np.arange(lengths[b])
                valid[b, pad:] = True
            past: list[tuple[torch.Tensor, torch.Tensor]] = []
            valid_t = torch.from_numpy(valid).to(self.device)
            h = self._step(torch.from_numpy(ids).to(self.device), torch.from_numpy(pos).to(self.device), valid_t, past)
            at = torch.tensor(lengths, device=self.device)
            tokens: list[torch.Tensor] = []
            for step in range(count):
                nxt = self._head(h[:, -1]).argmax(1)
                tokens.append(nxt)
                if step + 1 == count:
                    break
                valid_t = torch.cat([valid_t, torch.ones(len(batch), 1, dtype=torch.bool, device=self.device)], 1)
                h = self._step(nxt[:, None], at[:, None], valid_t, past)
                at = at + 1
            got = torch.stack(tokens, 1).tolist()
            for b, i in enumerate(batch):
                out[i] = [int(t) for t in got[b]]
        return out

    @torch.no_grad()
    def decode(self, name: str, ids: list[int], reset: bool) -> str:
        """Appends ids to the session's KV cache; the next token's logits [vocab_padded] as base64 float32."""
        if not ids:
            raise ValueError("decode needs at least one token")
        if reset or name not in self.sessions:
            self.sessions[name] = Session()
        sess = self.sessions[name]
        P, T = sess.length, len(ids)
        if P + T > self.config.n_ctx:
            raise ValueError(f"{P + T} tokens do not fit the model's context of {self.config.n_ctx}: reset and feed the window again")
        pos = torch.arange(P, P + T, device=self.device)[None]
        past = list(sess.past)  # _step extends this copy: the session changes only once all succeeded
        h = self._step(torch.tensor([ids], device=self.device), pos, torch.ones(1, P + T, dtype=torch.bool, device=self.device), past)
        logits = (h[0, -1:] @ self.model.wte.weight.T).float()[0].cpu().numpy()
        out = base64.b64encode(logits.astype("<f4").tobytes()).decode("ascii")
        sess.past, sess.length = past, P + T
        return out

    @torch.no_grad()
    def step(self, names: list[str], ids: list[int]) -> list[str]:
        """One token appended to each named session's cache, all in one forward: each layer's cached
        keys and values left-padded to the longest session and stacked [B, heads, P, head size],
        the padding marked invalid (masked as a right-padded batch's is, so no real position sees
        it), then each session's new key and value appended to its own cache. Returns each next
        token's logits as decode does. A session that has no cache yet is refused."""
        if len(names) != len(ids) or not names:
            raise ValueError("step needs one token per session")
        if len(set(names)) != len(names):
            raise ValueError("step was given one session twice")
        missing = [n for n in names if n not in self.sessions or self.sessions[n].length == 0]
        if missing:
            raise ValueError(f"step continues sessions that have a cache; {missing[0]} has none (decode with reset first)")
        sessions = [self.sessions[n] for n in names]
        lengths = [s.length for s in sessions]
        if max(lengths) + 1 > self.config.n_ctx:
            raise ValueError(f"{max(lengths) + 1} tokens do not fit the model's context of {self.config.n_ctx}: reset and feed the window again")
        B, P = len(sessions), max(lengths)
        past: list[tuple[torch.Tensor, torch.Tensor]] = []
        for layer in range(self.config.n_layer):
            ks = [F.pad(s.past[layer][0], (0, 0, P - s.length, 0)) for s in sessions]
            vs = [F.pad(s.past[layer][1], (0, 0, P - s.length, 0)) for s in sessions]
            past.append((torch.cat(ks, 0), torch.cat(vs, 0)))
        valid = torch.zeros(B, P + 1, dtype=torch.bool, device=self.device)
        for b, n in enumerate(lengths):
            valid[b, P - n :] = True
        pos = torch.tensor(lengths, device=self.device)[:, None]
        h = self._step(torch.tensor(ids, device=self.device)[:, None], pos, valid, past)
        # Every session's extended cache and every reply first, the sessions changed only after: a
        # failure part-way (out of memory in a cat, say) leaves every cache as it was, so the client's
        # retry of each session alone appends its token once.
        extended = [self._extended(name, s, past, b, P) for b, (name, s) in enumerate(zip(names, sessions))]
        logits = (h[:, -1] @ self.model.wte.weight.T).float().cpu().numpy()
        out = [base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") for row in logits]
        for s, new in zip(sessions, extended):
            s.past, s.length = new, s.length + 1
        return out

    def _extended(self, name: str, session: Session, stacked: list[tuple[torch.Tensor, torch.Tensor]], b: int, P: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A session's cached keys and values, every layer, with row b's new position of a stacked
        step's (index P) appended: new tensors, the session's own left as they are."""
        if name == self.fail_step_at:
            raise RuntimeError(f"{FAIL_STEP_ENV} makes extending {name}'s cache in a batched step fail")
        return [(torch.cat([k, sk[b : b + 1, :, P:]], 2), torch.cat([v, sv[b : b + 1, :, P:]], 2)) for (k, v), (sk, sv) in zip(session.past, stacked)]

    # ---- requests ----------------------------------------------------------------------------

    def handle(self, req: dict[str, Any]) -> dict[str, Any]:
        op = req.get("op")
        if op == "score":
            return {"results": self.score(req["items"])}
        if op == "next":
            return {"tokens": self.next_tokens(req["seqs"])}
        if op == "greedy":
            return {"tokens": self.greedy(req["seqs"], int(req["steps"]))}
        if op == "decode":
            return {"logits": self.decode(str(req["session"]), req["ids"], bool(req.get("reset", False)))}
        if op == "step":
            return {"logits": self.step([str(n) for n in req["sessions"]], [int(i) for i in req["ids"]])}
        if op == "close":
            self.sessions.pop(str(req["session"]), None)
            return {}
        raise ValueError(f"unknown op {op!r}")


def write(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="gptw_torch.serve", description="Serve one checkpoint on one device over JSON lines on stdin / stdout.")
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    ap.add_argument("--dtype", default="auto", choices=["auto", *sorted(DTYPES)], help="weights and activations; auto: bfloat16 for generation on a CUDA GPU with bf16, else float32; bfloat16 on the CPU is refused")
    ap.add_argument("--purpose", default="score", choices=["score", "generate"], help="what the server is for (decides auto's dtype)")
    ap.add_argument("--batch-size", type=int, default=8, help="sequences per forward pass")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    args = ap.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    started = time.time()
    try:
        server = ModelServer(args.checkpoint, args.device, args.dtype, max(1, args.batch_size), args.purpose)
    except Exception as e:  # the client shows this line as the reason the server did not start
        write({"type": "failed", "error": f"{type(e).__name__}: {e}"})
        return 1
    write({**server.ready(), "loadSeconds": round(time.time() - started, 3)})
    for line in sys.stdin:
        if not line.strip():
            continue
        req_id = None
        try:
            req = json.loads(line)
            req_id = req.get("id")
            if req.get("op") == "quit":
                write({"id": req_id, "ok": True})
                return 0
            write({"id": req_id, "ok": True, **server.handle(req)})
        except Exception as e:
            write({"id": req_id, "ok": False, "error": f"{type(e).__name__}: {e}"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
