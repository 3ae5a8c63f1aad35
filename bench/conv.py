"""conv2d forward + backward and one CNN training epoch: deltagrad against PyTorch (CPU) and a
minimal hand-written NumPy im2col version, in one process, same threads and dtype,
interleaved rounds, best of N. Prints times and ratios (deltagrad / PyTorch) in both columns
of ``columns.py``: one thread each by CPU time, two threads by wall clock.

    PYTHONPATH=src python bench/conv.py [--rounds 7]
"""

from __future__ import annotations

import argparse
from functools import partial

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from columns import columns_line, header, two_columns

import deltagrad as dg
from deltagrad.analysis import invariance

CASES = [((128, 1, 28, 28), 16), ((128, 1, 8, 8), 8)]


def _ours(x, w, b, g):
    X = dg.tensor(x, requires_grad=True)
    W, B = dg.tensor(w, requires_grad=True), dg.tensor(b, requires_grad=True)
    dg.conv2d(X, W, B, padding=0).backward(g)


def _torch(x, w, b, g):
    X = x.requires_grad_(True)
    W, B = w.requires_grad_(True), b.requires_grad_(True)
    torch.nn.functional.conv2d(X, W, B).backward(g)
    X.grad = W.grad = B.grad = None


def _numpy(x, w, b, g):
    """The textbook im2col: unfold, one GEMM forward, two GEMMs and a col2im loop back."""
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    cols = sliding_window_view(x, (kh, kw), axis=(2, 3)).transpose(0, 2, 3, 1, 4, 5)
    ho, wo = cols.shape[1:3]
    cols = cols.reshape(n * ho * wo, -1)
    out = cols @ w.reshape(f, -1).T + b
    gr = g.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = gr.T @ cols
    dcols = (gr @ w.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw)
    dx = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            dx[:, :, i:i + ho, j:j + wo] += dcols[..., i, j].transpose(0, 3, 1, 2)
    return out, dw, gr.sum(0), dx


def conv_cases(rounds: int) -> None:
    for dtype in ("float32", "float64"):
        for shape, filters in CASES:
            rng = np.random.default_rng(0)
            x = rng.normal(size=shape).astype(dtype)
            w = rng.normal(size=(filters, shape[1], 3, 3)).astype(dtype)
            b = rng.normal(size=filters).astype(dtype)
            g = rng.normal(size=(shape[0], filters, shape[2] - 2, shape[3] - 2)).astype(dtype)
            tx, tw, tb, tg = (torch.tensor(a) for a in (x, w, b, g))
            cpu, wall = two_columns({"deltagrad": partial(_ours, x, w, b, g),
                                     "pytorch": partial(_torch, tx, tw, tb, tg),
                                     "numpy": partial(_numpy, x, w, b, g)}, rounds)
            print(columns_line(f"conv2d fwd+bwd {shape} × {filters} 3×3 {dtype}", cpu, wall),
                  flush=True)


def _torch_cnn():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(144, 10)).double()


def cnn_epoch(rounds: int) -> None:
    (X, y), _ = invariance.padded_digits()
    T = np.eye(10)[y]
    net = invariance.cnn(0)
    tnet = _torch_cnn()
    topt = torch.optim.Adam(tnet.parameters(), lr=0.005)
    tX, ty = torch.tensor(X), torch.tensor(y)

    def ours():
        dg.fit(net, X, T, loss="cross_entropy", optimizer="adam", lr=0.005, epochs=1,
               batch_size=32, shuffle=False, progress=False)

    def theirs():
        for s in range(0, len(tX), 32):
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(tnet(tX[s:s + 32]), ty[s:s + 32],
                                                     reduction="sum")
            loss.backward()
            topt.step()

    cpu, wall = two_columns({"deltagrad": ours, "pytorch": theirs}, rounds)
    print(columns_line("digits CNN epoch (1,437 × 12×12, batch 32, float64)", cpu, wall))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    header("conv2d and a CNN epoch, deltagrad against PyTorch")
    conv_cases(args.rounds)
    cnn_epoch(max(2, args.rounds // 3))


if __name__ == "__main__":
    main()
