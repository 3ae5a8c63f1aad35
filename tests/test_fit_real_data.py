"""fit() on real data: scikit-learn's diabetes, breast cancer and digits; β_ML (eq. 2.6)."""

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes

import deltagrad as dg
from deltagrad import nn
from deltagrad.callbacks import EarlyStopping
from deltagrad.data import load_digits_split


def _standardise(X):
    return (X - X.mean(axis=0)) / X.std(axis=0)


def _validation_rows(n, fraction, seed=0):
    """The rows fit() holds out for validation_split=fraction with this seed."""
    order = np.random.default_rng(seed).permutation(n)
    return order[:int(round(fraction * n))]


@pytest.mark.parametrize("name", ["diabetes", "breast_cancer"])
def test_early_stopping_restores_the_minimum_of_the_validation_curve(name):
    if name == "diabetes":
        X, t = load_diabetes(return_X_y=True)
        T, net, loss = ((t - t.mean()) / t.std())[:, None], nn.MLP("10-32-1", rng=0), \
            "sum_of_squares"
    else:
        X, t = load_breast_cancer(return_X_y=True)
        T, net, loss = t[:, None].astype(float), nn.MLP("30-32-1", output="sigmoid", rng=0), \
            "binary_cross_entropy"
    X = _standardise(X)
    h = dg.fit(net, X, T, loss=loss, optimizer="adam", lr=0.01, epochs=500, batch_size=32,
               validation_split=0.25, callbacks=[EarlyStopping(patience=15)], progress=False)
    assert h.stopped_epoch is not None and h.epochs < 500, "the curve should turn up"
    val = _validation_rows(len(X), 0.25)
    assert dg.evaluate(net, X[val], T[val], loss) == min(h.val_error)
    assert h.restored_epoch == h.best_epoch


def _digits_problem():
    (X, y), _ = load_digits_split()
    return X, y, lambda: nn.MLP("64-32-10", hidden="tanh", output="softmax", rng=0)


def test_lbfgs_beats_1000_steps_of_batch_gradient_descent_in_fewer_iterations():
    """The digits MLP (64-32-10 here, so that BFGS's dense W×W matrix stays small)."""
    X, y, make = _digits_problem()
    gd = dg.fit(make(), X, y, loss="cross_entropy", optimizer="sgd", lr=1e-3, epochs=1000,
                progress=False)
    lbfgs = dg.fit(make(), X, y, loss="cross_entropy", optimizer="lbfgs", epochs=300,
                   progress=False)
    assert lbfgs.epochs < gd.epochs
    assert lbfgs.error[-1] < gd.error[-1]


@pytest.mark.parametrize("method", ["scg", "cg", "bfgs"])
def test_batch_methods_decrease_the_error_monotonically(method):
    X, y, make = _digits_problem()
    h = dg.fit(make(), X, y, loss="cross_entropy", optimizer=method, epochs=40, progress=False)
    assert h.epochs >= 10
    assert np.all(np.diff(h.error) <= 0), f"{method}: {h.error}"
    assert h.error[-1] < 0.5 * h.error[0]


def test_noise_precision_recovers_the_noise_variance():
    """t = sin(2x) + ε, σ = 0.1, N = 5,000: after fitting, 1/β_ML (eq. 2.6) ≈ σ² within 5%."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(5000, 1))
    T = np.sin(2 * X) + 0.1 * rng.normal(size=X.shape)
    net = nn.MLP("1-16-1", hidden="tanh", rng=0)
    dg.fit(net, X, T, optimizer="lbfgs", epochs=500, progress=False)
    beta = dg.losses.noise_precision(dg.predict(net, X), T)
    assert 1 / beta == pytest.approx(0.01, rel=0.05)
