"""MLP training speed: deltagrad (eager, and the compiled step of ``dg.compile``) against
PyTorch (eager, hand-written loop), scikit-learn's MLPClassifier and a minimal hand-written NumPy
loop, side by side in one process.

Prints, for each case, the best-of-R time per unit of work and the ratio ours/theirs. By default
every library runs on one thread and the times are CPU time (``time.process_time``), which a
machine loaded by other work inflates less than the wall clock; ``--threads N`` gives N threads
and wall-clock times. Run with ``make bench`` or ``.venv/bin/python bench/mlp.py [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_info, threadpool_limits

import deltagrad as dg
from deltagrad import nn
from deltagrad.data import load_digits_split


def best_time(fn, repeats: int) -> float:
    """The fastest of ``repeats`` runs (after one warm-up), in seconds."""
    return race({"fn": fn}, repeats)["fn"]


CLOCK = {"clock": time.process_time}  # main() switches to the wall clock for several threads


def race(fns: dict, repeats: int, clock=None) -> dict:
    """The fastest of ``repeats`` runs of each function, run in interleaved rounds (one run of
    each per round) so that a machine that speeds up or slows down affects all alike.
    ``clock``: ``CLOCK["clock"]`` by default (CPU time; main() switches to the wall clock for
    several threads); ``time.perf_counter`` or ``time.process_time`` explicitly."""
    clock = clock or CLOCK["clock"]
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = clock()
            fn()
            best[name] = min(best[name], clock() - start)
    return best


# ---- the four implementations of "train an MLP" ----------------------------------------------
def ours_epoch(net, opt, X, y, batch):
    for s in range(0, len(X), batch):
        opt.zero_grad()
        dg.losses.cross_entropy(net(X[s:s + batch]), y[s:s + batch]).backward()
        opt.step()


def compiled_step(net, opt, loss=dg.losses.cross_entropy):
    """The same step as ``ours_epoch``'s, compiled: recorded twice, then replayed."""
    def step(x, t):
        opt.zero_grad()
        E = loss(net(x), t)
        E.backward()
        opt.step()
        return E
    return dg.compile(step)


def compiled_epoch(step, X, y, batch):
    for s in range(0, len(X), batch):
        step(X[s:s + batch], y[s:s + batch])


def torch_model(sizes, dtype):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b).to(dtype))
        if i < len(sizes) - 2:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def torch_epoch(model, opt, X, y, batch):
    for s in range(0, len(X), batch):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(X[s:s + batch]), y[s:s + batch],
                                          reduction="sum").backward()
        opt.step()


def numpy_params(sizes, dtype, rng):
    return [(rng.uniform(-0.1, 0.1, (b, a)).astype(dtype), np.zeros(b, dtype))
            for a, b in zip(sizes[:-1], sizes[1:])]


def numpy_step(params, X, Y, lr):
    """Minimal hand-written forward/backward/update for a tanh MLP with softmax CE."""
    zs = [X]
    for l, (W, b) in enumerate(params):
        a = zs[-1] @ W.T + b
        zs.append(np.tanh(a) if l < len(params) - 1 else a)
    a = zs[-1]
    p = np.exp(a - a.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    delta = p - Y
    for l in range(len(params) - 1, -1, -1):
        W, b = params[l]
        gW, gb = delta.T @ zs[l], delta.sum(axis=0)
        if l > 0:
            delta = (delta @ W) * (1 - zs[l] * zs[l])
        W -= lr * gW
        b -= lr * gb


def numpy_epoch(params, X, Y, batch, lr=1e-3):
    for s in range(0, len(X), batch):
        numpy_step(params, X[s:s + batch], Y[s:s + batch], lr)


# ---- the cases ----------------------------------------------------------------------------
def report(title, ours, others):
    print(f"  {title:<34} ours {ours * 1e3:9.3f} ms", end="")
    for name, t in others.items():
        print(f" | {name} {t * 1e3:8.3f} ms ratio {ours / t:5.2f}", end="")
    print()


def case_digits_epoch(dtype, repeats):
    (X, y), _ = load_digits_split()
    X = X.astype(dtype)
    Y = np.eye(10, dtype=dtype)[y]
    rng = np.random.default_rng(0)
    net = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
    opt = dg.optim.SGD(net.parameters(), lr=1e-3)
    tdtype = getattr(torch, dtype)
    model = torch_model([64, 128, 10], tdtype)
    topt = torch.optim.SGD(model.parameters(), lr=1e-3)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    clf = MLPClassifier(hidden_layer_sizes=(128,), activation="tanh", solver="sgd",
                        batch_size=32, learning_rate_init=1e-3, momentum=0.0, alpha=0.0,
                        shuffle=False, random_state=0)
    clf.partial_fit(X, y, classes=np.arange(10))
    params = numpy_params([64, 128, 10], dtype, rng)
    twin = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
    step = compiled_step(twin, dg.optim.SGD(twin.parameters(), lr=1e-3))
    t = race({"ours": lambda: ours_epoch(net, opt, X, y, 32),
              "compiled": lambda: compiled_epoch(step, X, y, 32),
              "torch": lambda: torch_epoch(model, topt, Xt, yt, 32),
              "sklearn": lambda: clf.partial_fit(X, y),
              "numpy": lambda: numpy_epoch(params, X, Y, 32)}, repeats)
    eager, compiled = t.pop("ours"), t.pop("compiled")
    report(f"digits epoch, batch 32, {dtype}: eager", eager, t)
    report(f"digits epoch, batch 32, {dtype}: compiled", compiled, t)


def case_full_batch_step(dtype, repeats):
    (X, y), _ = load_digits_split()
    X = X.astype(dtype)
    Y = np.eye(10, dtype=dtype)[y]
    net = nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0, dtype=dtype)
    opt = dg.optim.SGD(net.parameters(), lr=1e-4)
    model = torch_model([64, 128, 10], getattr(torch, dtype))
    topt = torch.optim.SGD(model.parameters(), lr=1e-4)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    params = numpy_params([64, 128, 10], dtype, np.random.default_rng(0))
    t = race({"ours": lambda: ours_epoch(net, opt, X, y, len(X)),
              "torch": lambda: torch_epoch(model, topt, Xt, yt, len(X)),
              "numpy": lambda: numpy_epoch(params, X, Y, len(X), lr=1e-4)}, repeats)
    report(f"full batch (1,437) step, {dtype}", t.pop("ours"), t)


def case_wide_epoch(repeats, peak_gflops):
    sizes, batch, n = [64, 1024, 1024, 10], 512, 16_384
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 64)).astype(np.float32)
    y = rng.integers(0, 10, size=n)
    net = nn.MLP(sizes, hidden="tanh", output="softmax", rng=0, dtype="float32")
    opt = dg.optim.SGD(net.parameters(), lr=1e-5)
    model = torch_model(sizes, torch.float32)
    topt = torch.optim.SGD(model.parameters(), lr=1e-5)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    t = race({"ours": lambda: ours_epoch(net, opt, X, y, batch),
              "torch": lambda: torch_epoch(model, topt, Xt, yt, batch)}, repeats)
    t_ours, t_torch = t["ours"], t["torch"]
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) * n
    # forward 2 flops per MAC; backward: dW for every layer, dx for all but the first
    first = sizes[0] * sizes[1] * n
    flops = 2 * macs + 2 * macs + 2 * (macs - first)
    report("64-1024-1024-10, batch 512, float32", t_ours, {"torch": t_torch})
    for name, t in (("ours", t_ours), ("torch", t_torch)):
        gflops = flops / t / 1e9
        print(f"      {name}: {gflops:6.1f} GFLOP/s = {gflops / peak_gflops:4.2f} of the "
              f"measured NumPy GEMM peak ({peak_gflops:.0f} GFLOP/s)")


def case_notes_network(repeats):
    steps = 2000
    x, t = np.array([[0.5, -1.0]]), np.array([[0.3]])
    net = nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
    opt = dg.optim.SGD(net.parameters(), lr=0.01)

    def ours():
        for _ in range(steps):
            opt.zero_grad()
            dg.losses.sum_of_squares(net(x), t).backward()
            opt.step()

    twin = nn.MLP("2-3-2-1", hidden=["tanh", "sigmoid"], output="identity", rng=0)
    step = compiled_step(twin, dg.optim.SGD(twin.parameters(), lr=0.01), dg.losses.sum_of_squares)

    def compiled():
        for _ in range(steps):
            step(x, t)

    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2),
                                torch.nn.Sigmoid(), torch.nn.Linear(2, 1)).double()
    topt = torch.optim.SGD(model.parameters(), lr=0.01)
    xt, tt = torch.tensor(x), torch.tensor(t)

    def theirs():
        for _ in range(steps):
            topt.zero_grad()
            (0.5 * ((model(xt) - tt) ** 2).sum()).backward()
            topt.step()

    params = [(np.random.default_rng(0).normal(size=(b, a)), np.zeros(b))
              for a, b in ((2, 3), (3, 2), (2, 1))]

    def numpy_loop():
        for _ in range(steps):
            z0 = x
            a1 = z0 @ params[0][0].T + params[0][1]
            z1 = np.tanh(a1)
            a2 = z1 @ params[1][0].T + params[1][1]
            z2 = 1 / (1 + np.exp(-a2))
            y = z2 @ params[2][0].T + params[2][1]
            d3 = y - t
            d2 = (d3 @ params[2][0]) * z2 * (1 - z2)
            d1 = (d2 @ params[1][0]) * (1 - z1 * z1)
            for (W, b), d, z in zip(params, (d1, d2, d3), (z0, z1, z2)):
                W -= 0.01 * (d.T @ z)
                b -= 0.01 * d.sum(axis=0)

    per_step = {name: t / steps for name, t in race(
        {"ours": ours, "compiled": compiled, "torch": theirs, "numpy": numpy_loop},
        repeats).items()}
    for mode, name in (("eager", "ours"), ("compiled", "compiled")):
        ours = per_step[name]
        print(f"  {'2-3-2-1, one pattern, ' + mode:<34} ours {ours * 1e6:7.1f} µs", end="")
        for other in ("torch", "numpy"):
            print(f" | {other} {per_step[other] * 1e6:7.1f} µs ratio "
                  f"{ours / per_step[other]:5.2f}", end="")
        print()


def gemm_peak(dtype, n=2048) -> float:
    a = np.random.default_rng(0).normal(size=(n, n)).astype(dtype)
    t = best_time(lambda: a @ a, 3)
    return 2 * n ** 3 / t / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads (default 1: CPU time; more: wall clock)")
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    threadpool_limits(args.threads)
    if args.threads > 1:
        CLOCK["clock"] = time.perf_counter
    blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
            for i in threadpool_info() if i.get("user_api") == "blas"]
    threads = blas[0][2] if blas else os.cpu_count()
    torch.set_num_threads(threads)
    print(f"NumPy BLAS {blas}; torch {torch.__version__} with {torch.get_num_threads()} threads; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}; "
          f"{'CPU time' if args.threads == 1 else 'wall clock'}")
    warnings.simplefilter("ignore", ConvergenceWarning)
    peak32 = gemm_peak(np.float32)
    print(f"NumPy GEMM peak: float32 {peak32:.0f} GFLOP/s, float64 "
          f"{gemm_peak(np.float64):.0f} GFLOP/s")
    print("ratio = ours / theirs (below 1: we are faster)")
    for dtype in ("float32", "float64"):
        case_digits_epoch(dtype, repeats)
    for dtype in ("float32", "float64"):
        case_full_batch_step(dtype, repeats * 3)
    case_wide_epoch(max(2, repeats // 2), peak32)
    case_notes_network(repeats)


if __name__ == "__main__":
    main()
