"""The one place that imports scikit-learn's bundled data sets."""

from __future__ import annotations

import contextlib

_RECORDERS: list = []

NAMES = {"digits": "digits", "iris": "iris", "wine": "wine", "breast_cancer": "breast cancer",
         "diabetes": "diabetes"}


@contextlib.contextmanager
def record_loads():
    """Collect the names of the data sets loaded inside the ``with`` block (for reports)."""
    names: list = []
    _RECORDERS.append(names)
    try:
        yield names
    finally:
        _RECORDERS.remove(names)


def bundled(name: str):
    """``(X, t)`` of scikit-learn's bundled data set ``load_<name>``."""
    for names in _RECORDERS:
        if NAMES[name] not in names:
            names.append(NAMES[name])
    try:
        from sklearn import datasets
    except ImportError as err:
        raise ImportError(f"the {name} data set comes with scikit-learn: "
                          "pip install 'deltagrad[datasets]'") from err
    return getattr(datasets, f"load_{name}")(return_X_y=True)


def split(X, t, test_fraction: float, seed: int, stratify: bool, owner: str):
    """A fixed random split, stratified by class for classification sets."""
    from sklearn.model_selection import train_test_split

    from .. import _validate as check

    check.fraction(test_fraction, "test_fraction", owner)
    check.seed(seed, "seed", owner)
    return train_test_split(X, t, test_size=test_fraction, random_state=seed,
                            stratify=t if stratify else None)
