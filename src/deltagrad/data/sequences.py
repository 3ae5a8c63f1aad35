"""Long-range sequence tasks (Hochreiter & Schmidhuber, 1997), generated from a seed, each with
the score of its trivial memoryless baseline: the adding problem, temporal order, copy memory.

Example:
    >>> import deltagrad as dg
    >>> task = dg.data.adding_problem(100, T=50, seed=0)
    >>> task.X.shape, task.y.shape, round(task.baseline, 2)
    ((100, 50, 2), (100, 1), 0.16)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _validate as check


class SequenceTask(NamedTuple):
    """Inputs ``X`` (n, T, D), targets ``y``, and ``baseline``: the score of the best
    prediction that ignores the long-range dependency (``metric`` names the score)."""

    X: np.ndarray
    y: np.ndarray
    baseline: float
    metric: str


def _checked(n, T, seed, owner: str, min_T: int, why: str):
    """Validated (n, T) and the generator of ``seed``."""
    n = check.positive_int(n, "n", owner)
    T = check.positive_int(T, "T", owner)
    if T < min_T:
        raise ValueError(f"{owner}: T must be ≥ {min_T} ({why}), got {T}")
    return n, T, np.random.default_rng(check.seed(seed, "seed", owner))


def adding_problem(n: int, T: int, seed: int | None = 0) -> SequenceTask:
    """The adding problem: channel 0 holds T numbers drawn from U(0, 1), channel 1 marks two
    of them (one in each half of the sequence) with 1; the target is the sum of the two marked
    numbers. X (n, T, 2), y (n, 1).

    The baseline predicts the mean sum, 1, whatever the input: its mean squared error is
    Var(u₁ + u₂) = 2/12 ≈ 0.167 (``baseline`` is the value on these n sequences).
    """
    n, T, rng = _checked(n, T, seed, "adding_problem", 2, "one marker in each half")
    values = rng.uniform(0.0, 1.0, size=(n, T))
    first = rng.integers(0, T // 2, size=n)
    second = rng.integers(T // 2, T, size=n)
    markers = np.zeros((n, T))
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    y = (values[rows, first] + values[rows, second])[:, None]
    X = np.stack([values, markers], axis=-1)
    return SequenceTask(X, y, float(np.mean((y - 1.0) ** 2)), "mse")


TEMPORAL_SYMBOLS = ("a", "b", "c", "d", "X", "Y")


def temporal_order(n: int, T: int, seed: int | None = 0) -> SequenceTask:
    """Temporal order (Hochreiter & Schmidhuber's task 6a): a sequence of random distractors
    a–d (one-hot over ``TEMPORAL_SYMBOLS``) holds X or Y at one step in [0.1T, 0.2T) and X or Y
    at one step in [0.5T, 0.6T); the class is the order: 0 = XX, 1 = XY, 2 = YX, 3 = YY.
    X (n, T, 6), y (n,) labels.

    The baseline is the accuracy of always predicting the commonest class (≈ 0.25).
    """
    n, T, rng = _checked(n, T, seed, "temporal_order", 10, "two separated positions")
    symbols = rng.integers(0, 4, size=(n, T))
    first = rng.integers(T // 10, max(T // 5, T // 10 + 1), size=n)
    second = rng.integers(T // 2, max(3 * T // 5, T // 2 + 1), size=n)
    a, b = rng.integers(0, 2, size=n), rng.integers(0, 2, size=n)
    rows = np.arange(n)
    symbols[rows, first] = 4 + a
    symbols[rows, second] = 4 + b
    labels = 2 * a + b
    X = np.eye(len(TEMPORAL_SYMBOLS))[symbols]
    return SequenceTask(X, labels, float(np.bincount(labels, minlength=4).max() / n), "accuracy")


def copy_memory(n: int, T: int, seed: int | None = 0, length: int = 10,
                symbols: int = 8) -> SequenceTask:
    """Copy memory: ``length`` symbols from 1…``symbols``, then T − 1 blanks (0), a delimiter
    (``symbols`` + 1) and ``length`` more blanks; the target is blank for the first T + length
    steps and the remembered symbols for the last ``length``. Inputs one-hot
    X (n, T + 2·length, symbols + 2), y (n, T + 2·length) labels.

    The memoryless baseline outputs blanks and then a uniform guess over the symbols: its
    cross-entropy per step is length · ln(symbols) / (T + 2·length).
    """
    n, T, rng = _checked(n, T, seed, "copy_memory", 1, "at least one blank")
    length = check.positive_int(length, "length", "copy_memory")
    symbols = check.positive_int(symbols, "symbols", "copy_memory")
    steps = T + 2 * length
    data = rng.integers(1, symbols + 1, size=(n, length))
    inputs = np.zeros((n, steps), dtype=np.int64)
    inputs[:, :length] = data
    inputs[:, T + length - 1] = symbols + 1
    targets = np.zeros((n, steps), dtype=np.int64)
    targets[:, -length:] = data
    X = np.eye(symbols + 2)[inputs]
    return SequenceTask(X, targets, float(length * np.log(symbols) / steps), "cross_entropy")
