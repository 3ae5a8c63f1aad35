"""Model selection sweeps (§4.1) on joblib's process pool and on a Dask LocalCluster."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from deltagrad import nn, select

FIT = dict(optimizer="lbfgs", epochs=30, validation_split=0.25)


def build(params, seed):
    return nn.MLP([10, params["hidden"], 1], hidden="tanh", rng=seed)


def _data():
    X, t = load_diabetes(return_X_y=True)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X, ((t - t.mean()) / t.std())[:, None]


def _numbers(result):
    return [(r["params"]["hidden"], r["seed"], r["val_error"], r["error"]) for r in result.table]


def test_local_sweep_picks_the_lowest_validation_error(tmp_path):
    X, T = _data()
    result = select.sweep(build, {"hidden": [2, 4, 8]}, X, T, seeds=[0, 1], fit_kwargs=FIT)
    assert len(result.table) == 6
    assert result.best["val_error"] == min(r["val_error"] for r in result.table)
    Xv_rows = np.random.default_rng(0).permutation(len(X))[:round(0.25 * len(X))]
    from deltagrad import evaluate

    assert evaluate(result.best_model, X[Xv_rows], T[Xv_rows]) == pytest.approx(
        result.best["val_error"], rel=1e-12)
    assert "| hidden | seed | val_error |" in result.to_markdown()
    result.plot(tmp_path / "sweep.png")
    assert (tmp_path / "sweep.png").stat().st_size > 10_000


def test_dask_cluster_gives_the_same_numbers_as_the_local_backend():
    distributed = pytest.importorskip("distributed")
    X, T = _data()
    local = select.sweep(build, {"hidden": [2, 4]}, X, T, seeds=[0, 1], fit_kwargs=FIT)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        on_dask = select.sweep(build, {"hidden": [2, 4]}, X, T, seeds=[0, 1], fit_kwargs=FIT,
                               backend="dask", scheduler=client)
    assert _numbers(on_dask) == _numbers(local)


@pytest.mark.parametrize("kwargs,match", [
    (dict(fit_kwargs={"epochs": 2}), "must hold validation_split or validation_data"),
    (dict(fit_kwargs=dict(FIT, seed=3)), "must not set 'seed'"),
    (dict(fit_kwargs=FIT, backend="ray"), r"backend must be one of \('local', 'dask'\)"),
    (dict(fit_kwargs=FIT, backend="dask"), "pass scheduler="),
])
def test_sweep_checks_its_arguments(kwargs, match):
    X, T = _data()
    with pytest.raises(ValueError, match=match):
        select.sweep(build, {"hidden": [2]}, X, T, seeds=[0], **kwargs)
