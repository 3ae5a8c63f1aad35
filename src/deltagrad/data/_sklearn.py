"""The one place that imports scikit-learn's bundled data sets."""

from __future__ import annotations

import math

from ._loads import note_load

NAMES = {"digits": "digits", "iris": "iris", "wine": "wine", "breast_cancer": "breast cancer",
         "diabetes": "diabetes"}


def bundled(name: str):
    """``(X, t)`` of scikit-learn's bundled data set ``load_<name>``."""
    note_load(NAMES[name], "scikit-learn")
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
    if stratify:
        _check_room_for_every_class(len(t), len(set(t.tolist())), test_fraction, owner)
    return train_test_split(X, t, test_size=test_fraction, random_state=seed,
                            stratify=t if stratify else None)


def _check_room_for_every_class(n: int, classes: int, test_fraction: float, owner: str) -> None:
    """A stratified split needs at least one pattern of every class on each side."""
    n_test = math.ceil(test_fraction * n)  # as scikit-learn rounds the test part
    if n_test < classes or n - n_test < classes:
        raise ValueError(f"{owner}: test_fraction={test_fraction} leaves {n_test} test and "
                         f"{n - n_test} training patterns; a stratified split of {classes} "
                         f"classes needs at least {classes} in each (a test_fraction between "
                         f"{classes / n:.3g} and {1 - (classes + 1) / n:.3g})")
