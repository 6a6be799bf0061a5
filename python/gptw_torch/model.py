"""GPT-2 as the embedded engine computes it (src/core/engine/model.ts, ops.ts).

Token + position embeddings, pre-LayerNorm blocks (causal multi-head self-attention, tanh-GELU
MLP), a final LayerNorm and an lm head tied to the token embedding. Parameters carry the Hugging
Face GPT-2 names without `transformer.`, and linear weights use Conv1D layout [in, out], so a
checkpoint's tensors load as they are (checkpoint.py). The embedding has the vocabulary padded to
a multiple of 64 rows (faster matmuls); the padded columns of the logits are never scored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

# torch >= 2.0 has a fused attention kernel (flash / memory-efficient on CUDA).
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def padded_vocab(vocab_size: int) -> int:
    """vocab_size rounded up to a multiple of 64 (src/shared/config/model.ts paddedVocab)."""
    return (vocab_size + 63) // 64 * 64


@dataclass
class GPTConfig:
    n_layer: int
    n_head: int
    n_embd: int
    n_ctx: int
    vocab_size: int = 50257
    dropout: float = 0.0
    layer_norm_eps: float = 1e-5

    @property
    def vocab_padded(self) -> int:
        return padded_vocab(self.vocab_size)


class Conv1D(nn.Module):
    """y = x W + b with W [in, out]: GPT-2's layout, so checkpoints need no transposes."""

    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(n_in, n_out))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).reshape(*x.shape[:-1], -1)


class CausalSelfAttention(nn.Module):
    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.n_head = c.n_head
        self.dropout = c.dropout
        self.c_attn = Conv1D(c.n_embd, 3 * c.n_embd)
        self.c_proj = Conv1D(c.n_embd, c.n_embd)
        self.use_sdpa = HAS_SDPA

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        if self.use_sdpa:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.shape[-1]))
            causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
            att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
            att = F.dropout(att, self.dropout, self.training)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return F.dropout(self.c_proj(y), self.dropout, self.training)


class MLP(nn.Module):
    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.c_fc = Conv1D(c.n_embd, 4 * c.n_embd)
        self.c_proj = Conv1D(4 * c.n_embd, c.n_embd)
        self.dropout = c.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")), self.dropout, self.training)


class Block(nn.Module):
    def __init__(self, c: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_eps)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c.n_embd, eps=c.layer_norm_eps)
        self.mlp = MLP(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.config = config
        C = config.n_embd
        self.wte = nn.Embedding(config.vocab_padded, C)
        self.wpe = nn.Embedding(config.n_ctx, C)
        self.h = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.ln_f = nn.LayerNorm(C, eps=config.layer_norm_eps)
        # Weights come from a checkpoint, init.embedded_init (the embedded engine's numbers) or init_weights.

    @torch.no_grad()
    def init_weights(self, seed: int) -> None:
        """GPT-2's initialisation with torch's generator: the distribution of the embedded engine's
        initParams (N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer), biases 0,
        LayerNorm gains 1, padded rows 0), not its numbers (init.py has those, slower)."""
        g = torch.Generator().manual_seed(seed)
        for name, p in self.named_parameters():
            if name.endswith(".bias") or ".ln_" in name or name.startswith("ln_f"):
                p.fill_(1.0 if name.endswith(".weight") else 0.0)
                continue
            std = 0.02 / math.sqrt(2 * self.config.n_layer) if name.endswith("c_proj.weight") else 0.02
            p.copy_(torch.randn(p.shape, generator=g) * std)
        self.wte.weight[self.config.vocab_size:] = 0

    def forward(self, idx: torch.Tensor, targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits [B, T, vocab_padded] for ids [B, T]; with targets, the mean next-token
        cross-entropy over the real vocabulary (padded columns masked out, as ops.ts crossEntropy)."""
        B, T = idx.shape
        if T > self.config.n_ctx:
            raise ValueError(f"Sequence of {T} tokens is longer than the model's context of {self.config.n_ctx}.")
        x = self.wte(idx) + self.wpe.weight[:T]
        x = F.dropout(x, self.config.dropout, self.training)
        for block in self.h:
            x = block(x)
        x = self.ln_f(x)
        logits = x @ self.wte.weight.T  # the tied head, over the padded width (a multiple of 64)
        if targets is None:
            return logits, None
        V = self.config.vocab_size
        loss = F.cross_entropy(logits[..., :V].reshape(-1, V).float(), targets.reshape(-1))
        return logits, loss

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_token(self) -> float:
        """Training FLOPs per token (6N + attention), as the PaLM paper's MFU accounting."""
        c = self.config
        return 6 * self.num_params() + 12 * c.n_layer * c.n_embd * c.n_ctx


def decays(name: str) -> bool:
    """Weight decay on matrices and embeddings only (src/core/engine/param-names.ts decays)."""
    return name.endswith(".weight") and ".ln_" not in name and not name.startswith("ln_f.")
