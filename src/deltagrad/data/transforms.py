"""Standardisation on the training set's statistics (zero mean, unit variance per column)."""

from __future__ import annotations

import numpy as np


class Standardizer:
    """x ↦ (x − mean) / std per column, with the statistics of the data it was fitted on.

    A column with zero spread (a pixel that is always blank) keeps std = 1, so it maps to 0
    instead of NaN.

    Example:
        >>> import numpy as np
        >>> s = Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
        >>> s.transform(np.array([[2.0, 6.0]])).tolist()
        [[0.0, 1.0]]
    """

    def fit(self, X) -> Standardizer:
        X = _as_rows(X, "X")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise RuntimeError("Standardizer: call fit(X_train) before transform")
        X = _as_rows(X, "X")
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(f"Standardizer: fitted on rows of shape {self.mean_.shape}, "
                             f"got rows of shape {X.shape[1:]}")
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, X) -> np.ndarray:
        return _as_rows(X, "X") * self.scale_ + self.mean_


def standardize(train, *others) -> tuple:
    """``train`` and each of ``others`` standardised with ``train``'s statistics.

    Returns a tuple ``(train, *others)`` of float arrays; 1-D arrays are treated as one column.
    """
    column = np.ndim(train) == 1
    reshape = (lambda a: np.asarray(a, dtype=float)[:, None]) if column else (lambda a: a)
    scaler = Standardizer().fit(reshape(train))
    results = [scaler.transform(reshape(a)) for a in (train, *others)]
    return tuple(r[:, 0] if column else r for r in results)


def _as_rows(X, name: str) -> np.ndarray:
    X = np.asarray(X, dtype=float)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"standardize: {name} must hold at least one row of features, "
                         f"got shape {X.shape}")
    return X
