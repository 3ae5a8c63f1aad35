"""scikit-learn's 8×8 handwritten digits (1,797 images, 16 grey levels, 10 classes)."""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from . import _sklearn
from .transforms import standardize

SHAPES = ("flat", "images")
SCALES = ("standardize", "unit")


def load_digits(shape: str = "flat", scale: str = "unit") -> tuple:
    """All 1,797 digits: ``(X, labels)``.

    Args:
        shape: ``"flat"`` → X is ``(N, 64)``; ``"images"`` → ``(N, 1, 8, 8)`` (one channel,
            row-major pixels, as a convolution expects).
        scale: ``"unit"`` → grey levels divided by 16, in [0, 1]; ``"standardize"`` → each
            pixel to zero mean and unit variance over the whole set.

    Returns:
        ``X`` float64 as above and ``labels`` int64 ``(N,)`` in 0…9.
    """
    X, labels = _sklearn.bundled("digits")
    X = _scaled(X, scale, "load_digits")[0]
    return _shaped(X, shape, "load_digits"), labels.astype(np.int64)


def load_digits_split(seed: int = 0, test_fraction: float = 0.2, shape: str = "flat",
                      scale: str = "standardize") -> tuple:
    """A fixed stratified split: ``(X_train, y_train), (X_test, y_test)``.

    With the defaults, 1,437 training and 360 test patterns, each pixel standardised on the
    training set's statistics (a pixel that is blank in every training image stays 0).
    ``shape`` and ``scale`` as :func:`load_digits` (``"unit"`` divides by 16).
    """
    X, labels = _sklearn.bundled("digits")
    X_train, X_test, y_train, y_test = _sklearn.split(X, labels, test_fraction, seed,
                                                      stratify=True, owner="load_digits_split")
    X_train, X_test = _scaled(X_train, scale, "load_digits_split", X_test)
    return ((_shaped(X_train, shape, "load_digits_split"), y_train.astype(np.int64)),
            (_shaped(X_test, shape, "load_digits_split"), y_test.astype(np.int64)))


def _scaled(X, scale: str, owner: str, *others) -> tuple:
    scale = check.choice(scale, SCALES, "scale", owner)
    if scale == "unit":
        return tuple(np.asarray(a, dtype=np.float64) / 16.0 for a in (X, *others))
    return standardize(X, *others)


def _shaped(X: np.ndarray, shape: str, owner: str) -> np.ndarray:
    shape = check.choice(shape, SHAPES, "shape", owner)
    return X.reshape(len(X), 1, 8, 8) if shape == "images" else X
