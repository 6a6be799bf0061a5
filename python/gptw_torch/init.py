"""The embedded engine's initial weights, number for number, so that both engines started with
the same config and seed train to the same losses (src/core/engine/model.ts initParams).

initParams draws each parameter with tfjs's tf.randomNormal(shape, 0, std, 'float32', seed * 1000
+ n), n counting parameters in order. tfjs fills the values one by one with a Marsaglia polar
Gaussian (MPRandGauss in tfjs-core's rand_util.js) fed by seedrandom's Alea generator seeded with
the seed's decimal string. Both are reproduced here in double precision, operation for operation,
and the result is rounded to float32 as tfjs stores it.

Pure Python: about a second per million values, so a GPT-2 small takes minutes; `--fast-init`
(torch's generator, same distribution, other numbers) exists for large models.
"""
from __future__ import annotations

import math

import numpy as np
import torch

_TWO_M32 = 2.3283064365386963e-10  # 2^-32


def _uint32(x: float) -> int:
    """JavaScript's `x >>> 0` for the finite non-negative doubles Mash produces."""
    return int(x) & 0xFFFFFFFF


class Alea:
    """seedrandom's Alea (Johannes Baagøe): uniform doubles in [0, 1)."""

    def __init__(self, seed: str) -> None:
        n = 0xEFC8249D

        def mash(data: str) -> float:
            nonlocal n
            for ch in data:
                n += ord(ch)
                h = 0.02519603282416938 * n
                n = _uint32(h)
                h -= n
                h *= n
                n = _uint32(h)
                h -= n
                n += h * 0x100000000
            return _uint32(n) * _TWO_M32

        self.c = 1
        self.s0, self.s1, self.s2 = mash(" "), mash(" "), mash(" ")
        self.s0 -= mash(seed)
        if self.s0 < 0:
            self.s0 += 1
        self.s1 -= mash(seed)
        if self.s1 < 0:
            self.s1 += 1
        self.s2 -= mash(seed)
        if self.s2 < 0:
            self.s2 += 1

    def fill_uniform(self, count: int) -> list[float]:
        """The next `count` values (the generator's loop, inlined for speed)."""
        s0, s1, s2, c = self.s0, self.s1, self.s2, self.c
        out = [0.0] * count
        for i in range(count):
            t = 2091639 * s0 + c * _TWO_M32
            c = int(t)  # t | 0: t is positive and below 2^31
            s0, s1, s2 = s1, s2, t - c
            out[i] = s2
        self.s0, self.s1, self.s2, self.c = s0, s1, s2, c
        return out


def random_normal(count: int, std: float, seed: int) -> np.ndarray:
    """tf.randomNormal([count], 0, std, 'float32', seed) of tfjs 4.x, as float32. (Seed 0 makes
    tfjs draw from Math.random, which nothing can reproduce: torch's generator stands in.)"""
    if not seed:
        return (torch.randn(count, dtype=torch.float64) * std).numpy().astype(np.float32)
    rng = Alea(str(seed))
    out = np.empty(count, dtype=np.float64)
    log, sqrt = math.log, math.sqrt
    buf: list[float] = []
    i = j = 0
    while i < count:
        if j + 1 >= len(buf):
            # Uniforms in batches (about 1.27 per value); a leftover one is carried over, so the
            # pairs are those tfjs forms from the same stream.
            buf = buf[j:] + rng.fill_uniform(max(256, int((count - i) * 1.3)))
            j = 0
        v1 = 2 * buf[j] - 1
        v2 = 2 * buf[j + 1] - 1
        j += 2
        s = v1 * v1 + v2 * v2
        if s >= 1 or s == 0:
            continue
        mul = sqrt(-2.0 * log(s) / s)
        out[i] = 0 + std * v1 * mul
        i += 1
        if i < count:
            out[i] = 0 + std * v2 * mul
            i += 1
    return out.astype(np.float32)


@torch.no_grad()
def embedded_init(model: torch.nn.Module, n_layer: int, vocab_size: int, seed: int) -> None:
    """Sets every parameter as initParams(config, seed) does: LayerNorm gains 1, biases 0, the rest
    N(0, 0.02) (c_proj weights 0.02 / sqrt(2 n_layer)), the padded embedding rows 0."""
    for n, (name, p) in enumerate(model.named_parameters()):
        if name.endswith(".bias"):
            p.zero_()
        elif ".ln_" in name or name.startswith("ln_f."):
            p.fill_(1.0)
        else:
            std = 0.02 / math.sqrt(2 * n_layer) if name.endswith("c_proj.weight") else 0.02
            p.copy_(torch.from_numpy(random_normal(p.numel(), std, seed * 1000 + n)).reshape(p.shape))
            if name == "wte.weight":
                p[vocab_size:] = 0
