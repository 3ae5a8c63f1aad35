"""scikit-learn's bundled tabular data sets, standardised one way everywhere.

| name | patterns | inputs | target |
|---|---|---|---|
| ``iris`` | 150 | 4 | 3 classes |
| ``wine`` | 178 | 13 | 3 classes |
| ``breast_cancer`` | 569 | 30 | 2 classes (0 = malignant, 1 = benign) |
| ``diabetes`` | 442 | 10 | a real number (disease progression) |
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from . import _sklearn
from .transforms import standardize

TABULAR = {"iris": "classification", "wine": "classification",
           "breast_cancer": "classification", "diabetes": "regression"}


def load_tabular(name: str) -> tuple:
    """The whole data set ``name``, inputs standardised: ``(X, t)``.

    ``t`` is int64 class labels ``(N,)`` for the classification sets and, for ``diabetes``,
    the standardised target as a column ``(N, 1)`` (sum-of-squares regression, §2.1.1).
    """
    name = check.choice(name, TABULAR, "data set", "load_tabular", case_sensitive=True)
    X, t = _sklearn.bundled(name)
    return standardize(X)[0], _targets(name, t)[0]


def load_tabular_split(name: str, test_fraction: float = 0.2, seed: int = 0) -> tuple:
    """A fixed random split of ``name`` (stratified for classes), standardised on the
    training part's statistics (targets too, for regression):
    ``(X_train, t_train), (X_test, t_test)`` with ``t`` as in :func:`load_tabular`."""
    name = check.choice(name, TABULAR, "data set", "load_tabular_split", case_sensitive=True)
    X, t = _sklearn.bundled(name)
    X_train, X_test, t_train, t_test = _sklearn.split(
        X, t, test_fraction, seed, stratify=TABULAR[name] == "classification",
        owner="load_tabular_split")
    X_train, X_test = standardize(X_train, X_test)
    t_train, t_test = _targets(name, t_train, t_test)
    return (X_train, t_train), (X_test, t_test)


def _targets(name: str, t_train, *others) -> tuple:
    if TABULAR[name] == "classification":
        return tuple(np.asarray(t, dtype=np.int64) for t in (t_train, *others))
    return tuple(np.asarray(t)[:, None] for t in standardize(t_train, *others))
