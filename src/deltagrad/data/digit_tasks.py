"""Generated sequence tasks on the digits 0–9 (chapter 11): reversal and sorting.

Each task returns token ids ``X`` and targets ``T``, both ``(n, max_len)`` integers. Sequences
have lengths drawn uniformly from ``min_len … max_len``; ``PAD`` (= 10) fills the rest, so the
vocabulary is 11 tokens. The input is *right-aligned* (padding first) and the answer
*left-aligned* (padding after it), so that every answer token sits at a fixed place: for
reversal the answer at position p is the input at position max_len − 1 − p whatever the
length (the anti-diagonal), for sorting it is the p-th smallest digit. Targets at padding
positions are ``PAD``: leave them out of the loss and the accuracy (``ignore_index=PAD``).

Example:
    >>> from deltagrad.data import digit_tasks
    >>> X, T = digit_tasks.reversal(1, min_len=3, max_len=5, seed=1)
    >>> X, T
    (array([[10,  5,  7,  9,  0]]), array([[ 0,  9,  7,  5, 10]]))
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check

PAD = 10
VOCAB_SIZE = 11

__all__ = ["PAD", "TASKS", "VOCAB_SIZE", "make", "reversal", "sorting"]


def _sequences(n, min_len, max_len, seed, owner) -> list:
    n = check.positive_int(n, "n", owner)
    min_len = check.positive_int(min_len, "min_len", owner)
    max_len = check.positive_int(max_len, "max_len", owner)
    if min_len > max_len:
        raise ValueError(f"{owner}: min_len {min_len} is larger than max_len {max_len}")
    rng = np.random.default_rng(check.seed(seed, "seed", owner))
    lengths = rng.integers(min_len, max_len + 1, size=n)
    return [rng.integers(0, 10, size=length) for length in lengths], max_len


def _pack(sequences, answers, max_len) -> tuple:
    X = np.full((len(sequences), max_len), PAD, dtype=np.int64)
    T = np.full((len(sequences), max_len), PAD, dtype=np.int64)
    for row, (digits, answer) in enumerate(zip(sequences, answers)):
        X[row, max_len - len(digits):] = digits
        T[row, :len(answer)] = answer
    return X, T


def reversal(n: int, min_len: int = 10, max_len: int = 20, seed=0) -> tuple:
    """``n`` digit sequences and their reversals: ``(X, T)``, each ``(n, max_len)``."""
    sequences, max_len = _sequences(n, min_len, max_len, seed, "digit_tasks.reversal")
    return _pack(sequences, [s[::-1] for s in sequences], max_len)


def sorting(n: int, min_len: int = 10, max_len: int = 20, seed=0) -> tuple:
    """``n`` digit sequences and the same digits in ascending order: ``(X, T)``."""
    sequences, max_len = _sequences(n, min_len, max_len, seed, "digit_tasks.sorting")
    return _pack(sequences, [np.sort(s) for s in sequences], max_len)


TASKS = {"reversal": reversal, "sorting": sorting}


def make(task: str, n: int, min_len: int = 10, max_len: int = 20, seed=0) -> tuple:
    """The task named ``task`` (``"reversal"`` or ``"sorting"``)."""
    task = check.choice(task, tuple(TASKS), "task", "digit_tasks.make")
    return TASKS[task](n, min_len, max_len, seed)
