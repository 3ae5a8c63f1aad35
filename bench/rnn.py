"""Recurrent layers: one training step (forward + BPTT) of deltagrad's RNN and LSTM against
torch.nn.RNN/LSTM (CPU, same threads and dtype) and a minimal hand-written NumPy BPTT, side by
side in one process, interleaved rounds, best of R.

Prints the time per step and the ratio ours/PyTorch in both columns of ``columns.py`` (one
thread each by CPU time, two threads by wall clock), and deltagrad's peak memory (tracemalloc)
for batch 64, T = 100, input 2, hidden 64 and batch 32, T = 50, input 128, hidden 256.
Run with ``.venv/bin/python bench/rnn.py [--quick]``.
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np
import torch
from columns import columns_line, header, two_columns

from deltagrad import nn

SHAPES = [(64, 100, 2, 64), (32, 50, 128, 256)]  # (N, T, D_x, D_h)


def ours_step(layer, x, g):
    """Forward over the sequence, then backward with ∂E/∂H = g (E = Σ g ⊙ H)."""
    layer.zero_grad()
    H, _ = layer(x)
    (H * g).sum().backward()


def torch_step(layer, x, g):
    layer.zero_grad()
    H, _ = layer(x)
    H.backward(g)


def numpy_rnn_step(W_xh, W_hh, b, x, g):
    """Minimal tanh RNN forward and BPTT (eq. 8.6–8.7, 9.14)."""
    N, T, _ = x.shape
    A = (x.reshape(N * T, -1) @ W_xh.T + b).reshape(N, T, -1)
    H = np.empty_like(A)
    h = np.zeros((N, W_hh.shape[0]), dtype=x.dtype)
    for t in range(T):
        h = np.tanh(A[:, t] + h @ W_hh.T)
        H[:, t] = h
    delta = np.empty_like(H)
    future = np.zeros_like(h)
    for t in range(T - 1, -1, -1):
        d = (g[:, t] + future) * (1 - H[:, t] ** 2)
        delta[:, t] = d
        future = d @ W_hh
    flat = delta.reshape(N * T, -1)
    previous = np.concatenate([np.zeros_like(H[:, :1]), H[:, :-1]], axis=1)
    return flat.T @ x.reshape(N * T, -1), flat.T @ previous.reshape(N * T, -1), flat.sum(0)


def _sigmoid(z):
    return 0.5 * np.tanh(0.5 * z) + 0.5


def numpy_lstm_step(W_xh, W_hh, b, x, g):
    """Minimal LSTM forward and BPTT, the four gates in one product per step."""
    N, T, _ = x.shape
    D = W_hh.shape[1]
    Z = (x.reshape(N * T, -1) @ W_xh.T + b).reshape(N, T, -1)
    gates, C, H = np.empty_like(Z), np.empty((N, T, D), x.dtype), np.empty((N, T, D), x.dtype)
    h = c = np.zeros((N, D), dtype=x.dtype)
    for t in range(T):
        z = Z[:, t] + h @ W_hh.T
        i, f, u, o = _sigmoid(z[:, :D]), _sigmoid(z[:, D:2 * D]), np.tanh(z[:, 2 * D:3 * D]), \
            _sigmoid(z[:, 3 * D:])
        c = f * c + i * u
        h = o * np.tanh(c)
        gates[:, t], C[:, t], H[:, t] = np.concatenate([i, f, u, o], axis=1), c, h
    delta = np.empty_like(Z)
    dh, dc = np.zeros((N, D), x.dtype), np.zeros((N, D), x.dtype)
    for t in range(T - 1, -1, -1):
        i, f, u, o = (gates[:, t, k * D:(k + 1) * D] for k in range(4))
        tc = np.tanh(C[:, t])
        c_prev = C[:, t - 1] if t else np.zeros_like(dc)
        dh = g[:, t] + dh
        dc = dc + dh * o * (1 - tc ** 2)
        delta[:, t] = np.concatenate([dc * u * i * (1 - i), dc * c_prev * f * (1 - f),
                                      dc * i * (1 - u ** 2), dh * tc * o * (1 - o)], axis=1)
        dh, dc = delta[:, t] @ W_hh, dc * f
    flat = delta.reshape(N * T, -1)
    previous = np.concatenate([np.zeros_like(H[:, :1]), H[:, :-1]], axis=1)
    return flat.T @ x.reshape(N * T, -1), flat.T @ previous.reshape(N * T, -1), flat.sum(0)


def peak_megabytes(fn) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def bench(kind: str, shape, dtype: str, repeats: int) -> dict:
    N, T, D_x, D_h = shape
    rng = np.random.default_rng(0)
    ours = (nn.LSTM if kind == "LSTM" else nn.RNN)(D_x, D_h, rng=0, dtype=dtype)
    theirs = (torch.nn.LSTM if kind == "LSTM" else torch.nn.RNN)(
        D_x, D_h, batch_first=True, dtype=getattr(torch, dtype))
    x = rng.normal(size=(N, T, D_x)).astype(dtype)
    g = rng.normal(size=(N, T, D_h)).astype(dtype)
    xt, gt = torch.tensor(x), torch.tensor(g)
    W = (ours.W_xh.data, ours.W_hh.data, ours.b_h.data)
    minimal = numpy_lstm_step if kind == "LSTM" else numpy_rnn_step
    cpu, wall = two_columns({"deltagrad": lambda: ours_step(ours, x, g),
                             "pytorch": lambda: torch_step(theirs, xt, gt),
                             "numpy": lambda: minimal(*W, x, g)}, repeats)
    return cpu, wall, peak_megabytes(lambda: ours_step(ours, x, g))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    args = parser.parse_args()
    repeats = 3 if args.quick else 10
    header("RNN and LSTM training step, deltagrad against PyTorch")
    for kind in ("RNN", "LSTM"):
        for shape in SHAPES:
            for dtype in ("float32", "float64"):
                cpu, wall, peak = bench(kind, shape, dtype, repeats)
                print(columns_line(f"{kind} (N, T, D_x, D_h) = {shape} {dtype}, "
                                   f"peak {peak:.1f} MB", cpu, wall), flush=True)


if __name__ == "__main__":
    main()
