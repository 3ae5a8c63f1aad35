"""MultiHeadAttention forward + backward: deltagrad against PyTorch (CPU) and a minimal
hand-written NumPy version, in one process, same threads and dtype, interleaved rounds, best
of N. Prints times and ratios (deltagrad / PyTorch) in both columns of ``columns.py`` (one
thread each by CPU time, two threads by wall clock), and the peak memory of deltagrad's
forward + backward at sequence length 512 (tracemalloc: NumPy's allocations).

    PYTHONPATH=src python bench/attention.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import tracemalloc
from functools import partial

import numpy as np
import torch
from columns import columns_line, header, two_columns

import deltagrad as dg

CASES = [(32, 64, 64, 4), (8, 256, 128, 8)]  # (batch, sequence, embed, heads)


def _ours(layer, x, g):
    X = dg.tensor(x, requires_grad=True)
    layer.zero_grad()
    layer(X).backward(g)


def _torch(layer, x, g):
    X = x.requires_grad_(True)
    layer.zero_grad()
    layer(X, X, X, need_weights=False)[0].backward(g)
    X.grad = None


def _numpy(w_in, b_in, w_out, b_out, heads, x, g):
    """Self-attention by hand: projections, softmax(q kᵀ/√d) v per head, and every gradient."""
    n, t, e = x.shape
    d = e // heads
    qkv = x @ w_in.T + b_in
    split = qkv.reshape(n, t, 3, heads, d).transpose(2, 0, 3, 1, 4)
    q, k, v = split[0], split[1], split[2]
    s = q @ k.swapaxes(-1, -2) / float(np.sqrt(d))  # a Python float keeps float32 float32
    a = np.exp(s - s.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    y = (a @ v).transpose(0, 2, 1, 3).reshape(n, t, e)
    out = y @ w_out.T + b_out
    g2 = g.reshape(-1, e)
    dw_out, db_out = g2.T @ y.reshape(-1, e), g2.sum(0)
    dy = (g2 @ w_out).reshape(n, t, heads, d).transpose(0, 2, 1, 3)
    dv = a.swapaxes(-1, -2) @ dy
    da = dy @ v.swapaxes(-1, -2)
    ds = a * (da - (a * da).sum(-1, keepdims=True)) / float(np.sqrt(d))
    dq, dk = ds @ k, ds.swapaxes(-1, -2) @ q
    dqkv = np.stack([dq, dk, dv]).transpose(1, 3, 0, 2, 4).reshape(-1, 3 * e)
    dw_in, db_in = dqkv.T @ x.reshape(-1, e), dqkv.sum(0)
    dx = (dqkv @ w_in).reshape(x.shape)
    return out, dx, dw_in, db_in, dw_out, db_out


def _layers(embed: int, heads: int, dtype: str):
    ours = dg.nn.MultiHeadAttention(embed, heads, rng=0, dtype=dtype)
    theirs = torch.nn.MultiheadAttention(embed, heads, batch_first=True,
                                         dtype=getattr(torch, dtype))
    theirs.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def mha_cases(rounds: int) -> None:
    for dtype in ("float32", "float64"):
        for batch, length, embed, heads in CASES:
            rng = np.random.default_rng(0)
            x = rng.normal(size=(batch, length, embed)).astype(dtype)
            g = rng.normal(size=x.shape).astype(dtype)
            ours, theirs = _layers(embed, heads, dtype)
            weights = (ours.in_proj_weight.data, ours.in_proj_bias.data,
                       ours.out_proj.weight.data, ours.out_proj.bias.data, heads)
            cpu, wall = two_columns(
                {"deltagrad": partial(_ours, ours, x, g),
                 "pytorch": partial(_torch, theirs, torch.tensor(x), torch.tensor(g)),
                 "numpy": partial(_numpy, *weights, x, g)}, rounds)
            print(columns_line(f"MultiHeadAttention fwd+bwd (N={batch}, T={length}, E={embed}, "
                               f"H={heads}) {dtype}", cpu, wall), flush=True)


def peak_memory(length: int = 512, batch: int = 8, embed: int = 128, heads: int = 8) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(batch, length, embed))
    g = rng.normal(size=x.shape)
    ours, _ = _layers(embed, heads, "float64")
    tracemalloc.start()
    _ours(ours, x, g)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    weights = batch * heads * length * length * 8
    print(f"peak memory, fwd+bwd at T={length} (N={batch}, E={embed}, H={heads}, float64): "
          f"{peak / 2**20:.0f} MiB (one (N, H, T, T) weight tensor is {weights / 2**20:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    header("MultiHeadAttention, deltagrad against PyTorch")
    mha_cases(args.rounds)
    peak_memory()


if __name__ == "__main__":
    main()
