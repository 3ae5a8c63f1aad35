"""Model selection (§4.1): train several architectures, each from several random
initialisations, and keep the one with the lowest validation error.

The jobs run on joblib: ``backend="local"`` uses its process pool, ``backend="dask"`` the same
jobs on a Dask distributed cluster through joblib's dask backend. Each job limits BLAS to one
thread, so the same seeds give the same numbers on every backend.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

BACKENDS = ("local", "dask")


def _grid_points(grid: dict) -> list:
    if not isinstance(grid, dict) or not grid:
        raise ValueError("sweep: grid must be a non-empty dict of parameter name -> values")
    names = list(grid)
    values = [list(grid[n]) if isinstance(grid[n], (list, tuple, range, np.ndarray))
              else [grid[n]] for n in names]
    return [dict(zip(names, combo)) for combo in itertools.product(*values)]


def _run_job(build, params: dict, seed: int, X, T, fit_kwargs: dict) -> dict:
    """Build, train and score one (params, seed); runs in a worker process."""
    from threadpoolctl import threadpool_limits

    from .train import fit

    # fresh, aligned copies: a deserialised buffer may sit at another alignment, and SIMD
    # reductions round differently there, so the backends would differ in the last digits
    X, T = np.array(X, copy=True), np.array(T, copy=True)
    if "validation_data" in fit_kwargs:
        fit_kwargs = dict(fit_kwargs, validation_data=tuple(
            np.array(a, copy=True) for a in fit_kwargs["validation_data"]))
    with threadpool_limits(1):
        model = build(params, seed)
        history = fit(model, X, T, seed=seed, progress=False, **fit_kwargs)
    best = history.best_epoch
    return {"params": params, "seed": seed, "val_error": float(history.val_error[-1]),
            "best_val_error": float(np.nanmin(history.val_error)), "best_epoch": best,
            "error": float(history.error[-1]), "epochs": history.epochs,
            "state": model.state_dict()}


@dataclass
class SweepResult:
    """``table``: one row per (params, seed) — params, seed, val_error (of the final model),
    error, epochs; ``best``: the row of lowest val_error; ``best_model``: that network."""

    table: list
    best: dict
    best_model: object

    def to_markdown(self) -> str:
        keys = list(self.table[0]["params"])
        lines = ["| " + " | ".join(keys + ["seed", "val_error", "error", "epochs"]) + " |",
                 "|" + "---|" * (len(keys) + 4)]
        for row in self.table:
            cells = [str(row["params"][k]) for k in keys] + [
                str(row["seed"]), f"{row['val_error']:.6g}", f"{row['error']:.6g}",
                str(row["epochs"])]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def plot(self, path=None, size_key: str = "hidden"):
        from .plot import plot_sweep

        return plot_sweep(self.table, path=path, size_key=size_key)


def sweep(build, grid: dict, X, T, seeds=(0, 1, 2), fit_kwargs: dict | None = None,
          backend: str = "local", scheduler=None, n_jobs: int = -1) -> SweepResult:
    """Train ``build(params, seed)`` for every point of ``grid`` and every seed; pick the best.

    Args:
        build: ``build(params, seed) -> Module``, e.g.
            ``lambda p, s: nn.MLP([D, p["hidden"], K], rng=s)``; it must be picklable
            (a module-level function or a lambda: joblib uses cloudpickle).
        grid: ``{"hidden": [2, 4, 8], ...}``: the product of the values is swept.
        seeds: the random initialisations (and the shuffling seeds of fit()); a
            ``validation_split`` is drawn once (seed 0) and shared by every job.
        fit_kwargs: arguments of :func:`deltagrad.fit`; they must give validation data
            (``validation_split`` or ``validation_data``), on which the models are compared.
        backend: ``"local"`` (joblib's process pool) or ``"dask"``.
        scheduler: for ``"dask"``, a scheduler address or a ``distributed.Client``.
        n_jobs: joblib's parallelism for ``"local"`` (-1: all cores).
    """
    import joblib

    fit_kwargs = dict(fit_kwargs or {})
    if "validation_split" not in fit_kwargs and "validation_data" not in fit_kwargs:
        raise ValueError("sweep: fit_kwargs must hold validation_split or validation_data; the "
                         "models are compared on their validation error")
    for reserved in ("seed", "progress"):
        if reserved in fit_kwargs:
            raise ValueError(f"sweep: fit_kwargs must not set {reserved!r}; sweep sets it")
    if backend not in BACKENDS:
        raise ValueError(f"sweep: backend must be one of {BACKENDS}, got {backend!r}")
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("sweep: give at least one seed")
    if "validation_split" in fit_kwargs:  # one split for every job, so the scores compare
        X, T, Xv, Tv = _split_once(X, T, fit_kwargs.pop("validation_split"))
        fit_kwargs["validation_data"] = (Xv, Tv)
    jobs = [joblib.delayed(_run_job)(build, params, seed, X, T, fit_kwargs)
            for params in _grid_points(grid) for seed in seeds]
    if backend == "local":
        rows = joblib.Parallel(n_jobs=n_jobs)(jobs)
    else:
        rows = _run_on_dask(jobs, scheduler)
    best = min(rows, key=lambda row: row["val_error"])
    model = build(best["params"], best["seed"])
    model.load_state_dict(best["state"])
    return SweepResult(table=rows, best=best, best_model=model)


def _split_once(X, T, fraction):
    from .train import _split

    X, T = np.asarray(X), np.asarray(T)
    if len(X) != len(T):
        raise ValueError(f"sweep: X has {len(X)} patterns but T has {len(T)}")
    return _split(X, T, fraction, None, 0, X.dtype if X.dtype.kind == "f" else np.float64,
                  None)


def _run_on_dask(jobs, scheduler) -> list:
    try:
        from distributed import Client
    except ImportError as err:
        raise ImportError("sweep(backend='dask') needs dask.distributed: "
                          "pip install 'deltagrad[dask]'") from err
    import joblib

    if scheduler is None:
        raise ValueError("sweep(backend='dask'): pass scheduler= (an address such as "
                         "'tcp://127.0.0.1:8786' or a distributed.Client)")
    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        with joblib.parallel_backend("dask", client=client):
            return joblib.Parallel()(jobs)
    finally:
        if client is not scheduler:
            client.close()
