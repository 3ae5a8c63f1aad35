"""Conv1d and BatchNorm forward + backward, and a 1-D CNN training epoch: deltagrad against
PyTorch (CPU) and a minimal hand-written NumPy version, in one process, ONE thread each, CPU
time (``time.process_time``), interleaved rounds, best of N. Prints times and ratios
(deltagrad / PyTorch); Conv1d is also timed against deltagrad's own Conv2d on the same signal
as an image of height 1 (the primitive underneath).

    PYTHONPATH=src python bench/conv1d_batchnorm.py [--rounds 7]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before NumPy loads its BLAS
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import time  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import deltagrad as dg  # noqa: E402

F = torch.nn.functional


def _best(fns, rounds: int) -> list:
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for k, fn in enumerate(fns):
            start = time.process_time()
            fn()
            best[k] = min(best[k], time.process_time() - start)
    return best


def _line(what: str, ours: float, theirs: float, others: dict) -> None:
    extra = "  ".join(f"{k} {v * 1e3:7.2f} ms" for k, v in others.items())
    print(f"{what}: deltagrad {ours * 1e3:7.2f} ms  PyTorch {theirs * 1e3:7.2f} ms  {extra}  "
          f"ratio {ours / theirs:5.2f}×")


# ---- Conv1d -------------------------------------------------------------------------------------
def _conv1d_ours(x, w, b, g):
    X, W, B = (dg.tensor(a, requires_grad=True) for a in (x, w, b))
    dg.conv1d(X, W, B, padding=2).backward(g)


def _conv2d_ours(x, w, b, g):
    X = dg.tensor(x[:, :, None], requires_grad=True)
    W, B = dg.tensor(w[:, :, None], requires_grad=True), dg.tensor(b, requires_grad=True)
    dg.conv2d(X, W, B, padding=(0, 2)).backward(g[:, :, None])


def _conv1d_torch(x, w, b, g):
    X, W, B = (a.detach().requires_grad_(True) for a in (x, w, b))
    F.conv1d(X, W, B, padding=2).backward(g)


def _conv1d_numpy(x, w, b, g):
    """The textbook 1-D im2col: unfold, one GEMM forward, two GEMMs and a fold back."""
    n, c, _ = x.shape
    f, _, k = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (2, 2)))
    cols = sliding_window_view(xp, k, axis=2).transpose(0, 2, 1, 3)   # (N, Lo, C, k)
    lo = cols.shape[1]
    cols = cols.reshape(n * lo, c * k)
    out = cols @ w.reshape(f, -1).T + b
    gr = g.transpose(0, 2, 1).reshape(-1, f)
    dw = gr.T @ cols
    dcols = (gr @ w.reshape(f, -1)).reshape(n, lo, c, k)
    dx = np.zeros_like(xp)
    for m in range(k):
        dx[:, :, m:m + lo] += dcols[..., m].transpose(0, 2, 1)
    return out, dw, gr.sum(0), dx[:, :, 2:-2]


def conv1d_cases(rounds: int) -> None:
    for dtype in ("float32", "float64"):
        for (n, c, length), f in (((64, 8, 256), 16), ((32, 16, 1000), 32)):
            rng = np.random.default_rng(0)
            x = rng.normal(size=(n, c, length)).astype(dtype)
            w = rng.normal(size=(f, c, 5)).astype(dtype)
            b = rng.normal(size=f).astype(dtype)
            g = rng.normal(size=(n, f, length)).astype(dtype)
            tx, tw, tb, tg = (torch.tensor(a) for a in (x, w, b, g))
            ours, theirs, as2d, hand = _best([
                partial(_conv1d_ours, x, w, b, g), partial(_conv1d_torch, tx, tw, tb, tg),
                partial(_conv2d_ours, x, w, b, g), partial(_conv1d_numpy, x, w, b, g)], rounds)
            _line(f"conv1d fwd+bwd ({n}, {c}, {length}) × {f} k=5 {dtype}", ours, theirs,
                  {"deltagrad conv2d 1×L": as2d, "NumPy im2col": hand})


# ---- BatchNorm ----------------------------------------------------------------------------------
def _bn_ours(x, w, b, g, training):
    X, W, B = (dg.tensor(a, requires_grad=True) for a in (x, w, b))
    C = x.shape[1]
    mean, var = np.zeros(C, x.dtype), np.ones(C, x.dtype)
    dg.ops.batch_norm(X, mean, var, W, B, training=training).backward(g)


def _bn_torch(x, w, b, g, training):
    X, W, B = (a.detach().requires_grad_(True) for a in (x, w, b))
    C = x.shape[1]
    mean, var = torch.zeros(C, dtype=x.dtype), torch.ones(C, dtype=x.dtype)
    F.batch_norm(X, mean, var, W, B, training=training).backward(g)


def _bn_numpy(x, w, b, g, training):
    """The textbook training step: statistics, x̂, y; then the closed-form backward."""
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes, keepdims=True)
    xc = x - mean
    inv = 1.0 / np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + 1e-5)
    xhat = xc * inv
    y = xhat * w.reshape(shape) + b.reshape(shape)
    db, dw = g.sum(axis=axes), (g * xhat).sum(axis=axes)
    M = x.size // x.shape[1]
    dx = (w.reshape(shape) * inv) * (g - db.reshape(shape) / M - xhat * dw.reshape(shape) / M)
    return y, dx, dw, db


def batchnorm_cases(rounds: int) -> None:
    for dtype in ("float32", "float64"):
        for shape in ((256, 64), (64, 16, 256), (32, 16, 32, 32)):
            rng = np.random.default_rng(0)
            x = rng.normal(size=shape).astype(dtype)
            w, b = (rng.normal(size=shape[1]).astype(dtype) for _ in range(2))
            g = rng.normal(size=shape).astype(dtype)
            tx, tw, tb, tg = (torch.tensor(a) for a in (x, w, b, g))
            ours, theirs, hand = _best([partial(_bn_ours, x, w, b, g, True),
                                        partial(_bn_torch, tx, tw, tb, tg, True),
                                        partial(_bn_numpy, x, w, b, g, True)], rounds)
            _line(f"batch_norm train fwd+bwd {shape} {dtype}", ours, theirs,
                  {"NumPy": hand})


# ---- a 1-D CNN epoch ---------------------------------------------------------------------------
def cnn1d_epoch(rounds: int) -> None:
    rng = np.random.default_rng(0)
    N, L = 1024, 128
    X = rng.normal(size=(N, 1, L))
    y = rng.integers(0, 3, size=N)
    T = np.eye(3)[y]
    nn, tnn = dg.nn, torch.nn
    net = nn.Sequential(nn.Conv1d(1, 16, 5, padding=2), nn.BatchNorm1d(16), nn.ReLU(),
                        nn.MaxPool1d(2), nn.Conv1d(16, 32, 5, padding=2), nn.BatchNorm1d(32),
                        nn.ReLU(), nn.AvgPool1d(4), nn.Flatten(), nn.Linear(32 * 16, 3),
                        nn.Softmax())
    tnet = tnn.Sequential(tnn.Conv1d(1, 16, 5, padding=2), tnn.BatchNorm1d(16), tnn.ReLU(),
                          tnn.MaxPool1d(2), tnn.Conv1d(16, 32, 5, padding=2),
                          tnn.BatchNorm1d(32), tnn.ReLU(), tnn.AvgPool1d(4), tnn.Flatten(),
                          tnn.Linear(32 * 16, 3)).double()
    topt = torch.optim.Adam(tnet.parameters(), lr=0.001)
    tX, ty = torch.tensor(X), torch.tensor(y)

    def ours():
        dg.fit(net, X, T, loss="cross_entropy", optimizer="adam", lr=0.001, epochs=1,
               batch_size=64, shuffle=False, progress=False)

    def theirs():
        tnet.train()
        for s in range(0, N, 64):
            topt.zero_grad()
            F.cross_entropy(tnet(tX[s:s + 64]), ty[s:s + 64], reduction="sum").backward()
            topt.step()
        tnet.eval()
        with torch.no_grad():  # fit's end-of-epoch error on the whole set, as deltagrad logs
            F.cross_entropy(tnet(tX), ty, reduction="sum")

    a, b = _best([ours, theirs], rounds)
    print(f"1-D CNN + BatchNorm epoch ({N} × (1, {L}), batch 64, float64, Adam): deltagrad "
          f"{a * 1e3:7.1f} ms  PyTorch {b * 1e3:7.1f} ms  ratio {a / b:5.2f}×")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with threadpool_limits(1):
        print("one thread each (BLAS and torch); CPU time, best of", args.rounds)
        conv1d_cases(args.rounds)
        batchnorm_cases(args.rounds)
        cnn1d_epoch(max(2, args.rounds // 3))


if __name__ == "__main__":
    main()
