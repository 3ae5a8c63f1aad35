"""fit() against hand-written training loops on the same model and data, and a model-selection
sweep on a 2-worker Dask LocalCluster against joblib's local process pool.

Prints time per minibatch step of fit() (compiled, the default, and ``compile=False``), of a
hand-written deltagrad loop and of a hand-written NumPy loop doing the same work (reshuffle each
epoch, slice minibatches, forward, E, backward, SGD), with the ratios (CPU time, one thread, as
``bench/mlp.py``), then the sweep times and their ratio. Run: ``.venv/bin/python bench/fit.py``.
"""

from __future__ import annotations

import time

import numpy as np
from mlp import numpy_params, race
from threadpoolctl import threadpool_limits

import deltagrad as dg
from deltagrad import nn, select
from deltagrad.data import load_digits_split


def hand_written(net, X, y, epochs, batch, seed):
    """The same work as fit(): reshuffle each epoch, slice minibatches, record E."""
    opt = dg.optim.SGD(net.parameters(), lr=0.01)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        Xe, ye = X[order], y[order]
        total = 0.0
        for s in range(0, len(X), batch):
            opt.zero_grad()
            E = dg.losses.cross_entropy(net(Xe[s:s + batch]), ye[s:s + batch])
            total += E.item()
            E.backward()
            opt.step()


def with_fit(net, X, y, epochs, batch, seed, compile=True):
    dg.fit(net, X, y, loss="cross_entropy", optimizer="sgd", lr=0.01, epochs=epochs,
           batch_size=batch, seed=seed, progress=False, compile=compile)


def numpy_loop(params, X, y, epochs, batch, seed, lr=0.01):
    """fit()'s work by hand in NumPy: reshuffle, minibatches, softmax, E, δ, SGD."""
    rng = np.random.default_rng(seed)
    eye = np.eye(10, dtype=X.dtype)
    for _ in range(epochs):
        order = rng.permutation(len(X))
        Xe, ye = X[order], y[order]
        total = 0.0
        for s in range(0, len(X), batch):
            x, labels = Xe[s:s + batch], ye[s:s + batch]
            (W1, b1), (W2, b2) = params
            z = np.tanh(x @ W1.T + b1)
            a = z @ W2.T + b2
            p = np.exp(a - a.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            total += float(-np.log(p[np.arange(len(labels)), labels]).sum())
            delta2 = p - eye[labels]
            delta1 = (delta2 @ W2) * (1 - z * z)
            W2 -= lr * (delta2.T @ z)
            b2 -= lr * delta2.sum(axis=0)
            W1 -= lr * (delta1.T @ x)
            b1 -= lr * delta1.sum(axis=0)


def fresh_net():
    return nn.MLP("64-128-10", hidden="tanh", output="softmax", rng=0)


def bench_fit():
    (X, y), _ = load_digits_split()
    epochs, batch = 5, 32
    steps = epochs * -(-len(X) // batch)
    t = race({"fit() compiled": lambda: with_fit(fresh_net(), X, y, epochs, batch, 0),
              "fit() eager": lambda: with_fit(fresh_net(), X, y, epochs, batch, 0, False),
              "hand-written deltagrad": lambda: hand_written(fresh_net(), X, y, epochs, batch, 0),
              "hand-written NumPy": lambda: numpy_loop(
                  numpy_params([64, 128, 10], X.dtype, np.random.default_rng(0)), X, y, epochs,
                  batch, 0)}, repeats=9)
    print(f"digits 64-128-10, batch {batch}, {epochs} epochs (µs per step; ratio to the "
          "hand-written NumPy loop):")
    for name, seconds in t.items():
        print(f"  {name:<24} {seconds / steps * 1e6:7.1f} µs/step, ratio "
              f"{seconds / t['hand-written NumPy']:.3f}")


def build(params, seed):
    return nn.MLP([10, params["hidden"], 1], hidden="tanh", rng=seed)


def bench_sweep():
    from distributed import Client, LocalCluster
    from sklearn.datasets import load_diabetes

    X, t = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    T = ((t - t.mean()) / t.std())[:, None]
    grid, seeds = {"hidden": [4, 8, 16, 32]}, [0, 1, 2]
    fit_kwargs = dict(optimizer="lbfgs", epochs=200, validation_split=0.25)
    start = time.perf_counter()
    select.sweep(build, grid, X, T, seeds=seeds, fit_kwargs=fit_kwargs, n_jobs=2)
    t_local = time.perf_counter() - start
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster) as client:
        start = time.perf_counter()
        select.sweep(build, grid, X, T, seeds=seeds, fit_kwargs=fit_kwargs, backend="dask",
                     scheduler=client)
        t_dask = time.perf_counter() - start
    print(f"sweep of 12 fits (4 sizes × 3 seeds): local joblib (2 processes) {t_local:.2f} s, "
          f"Dask LocalCluster (2 workers) {t_dask:.2f} s, ratio dask/local {t_dask / t_local:.2f}")


if __name__ == "__main__":
    import logging

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with threadpool_limits(1):
        bench_fit()
    bench_sweep()
