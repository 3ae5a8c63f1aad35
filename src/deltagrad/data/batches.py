"""Minibatches for a hand-written training loop (the loop ``fit`` runs for you): inputs,
targets and masks cut together, shuffled from a seed, the last short batch kept or dropped;
and :func:`pad_sequences`, which turns sequences of different lengths into one padded array
and its mask (True at real steps), the form the recurrent and attention layers take.

Example:
    >>> import numpy as np
    >>> from deltagrad.data import Batches
    >>> X, t = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [tb.tolist() for _, tb in Batches(X, t, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor


class Batches:
    """An iterable over minibatches of equally long arrays, like PyTorch's ``DataLoader``
    over a ``TensorDataset``: iterate it once per epoch.

    Args:
        *arrays: inputs, targets, masks, weights…: arrays (or lists, Tensors) that share
            their first axis N (the patterns); each batch cuts all of them at the same rows.
        batch_size: patterns per batch (the last may be shorter).
        shuffle: a new random order of the patterns on each pass.
        seed: an int or a ``numpy.random.Generator``: the orders of a whole run are the same
            run after run (each pass draws the next order from it).
        drop_last: leave out the last batch when it is shorter than ``batch_size``.

    Yields:
        a tuple of NumPy arrays, one per array given, each ``(B, ...)`` with B ≤ batch_size
        (the array itself when only one was given). ``len(batches)`` is the number of
        batches per pass.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> X, mask = dg.data.pad_sequences([[1, 2, 3], [4], [5, 6]])
        >>> for xb, mb in dg.data.Batches(X, mask, batch_size=2, seed=0):
        ...     print(xb.shape, mb.sum(axis=1))
        (2, 3) [2 3]
        (1, 3) [1]
    """

    def __init__(self, *arrays, batch_size: int = 32, shuffle: bool = True, seed=None,
                 drop_last: bool = False):
        owner = "Batches"
        if not arrays:
            raise ValueError(f"{owner}: give at least one array (inputs, targets, …)")
        self.arrays = [_rows(a, k, owner) for k, a in enumerate(arrays)]
        lengths = [len(a) for a in self.arrays]
        if len(set(lengths)) > 1:
            raise ValueError(f"{owner}: the arrays must have the same number of patterns "
                             f"(first axis), got {lengths}")
        self.n = lengths[0]
        self.batch_size = check.positive_int(batch_size, "batch_size", owner)
        self.shuffle = check.boolean(shuffle, "shuffle", owner)
        self.drop_last = check.boolean(drop_last, "drop_last", owner)
        if self.drop_last and self.n < self.batch_size:
            raise ValueError(f"{owner}: drop_last=True with {self.n} patterns and batch_size "
                             f"{self.batch_size} leaves no batch at all")
        if not isinstance(seed, np.random.Generator):
            seed = check.seed(seed, "seed", owner)
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self):
        order = self.rng.permutation(self.n) if self.shuffle else np.arange(self.n)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start:start + self.batch_size]
            batch = tuple(a[rows] for a in self.arrays)
            yield batch[0] if len(batch) == 1 else batch

    def __repr__(self) -> str:
        return (f"Batches({len(self.arrays)} arrays of {self.n} patterns, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")


def _rows(array, k: int, owner: str) -> np.ndarray:
    """Array ``k`` as an ndarray with a first axis, or a clear error."""
    data = array.data if isinstance(array, Tensor) else array
    try:
        data = np.asarray(data)
    except ValueError:
        data = None
    if data is None or data.dtype == object:
        raise ValueError(f"{owner}: array {k} is ragged (sequences of different lengths); pad "
                         "it first: X, mask = deltagrad.data.pad_sequences(sequences)")
    if data.ndim == 0:
        raise ValueError(f"{owner}: array {k} must have a first axis of patterns, got a "
                         f"scalar {data!r}")
    return data


def pad_sequences(sequences, pad_value=0, max_len: int | None = None, dtype=None) -> tuple:
    """Sequences of different lengths as one array, padded at the end, and its mask.

    Args:
        sequences: a list of N sequences, each ``(T_n,)`` (token ids) or ``(T_n, D)``
            (vectors), T_n ≥ 1.
        pad_value: what fills the steps after each sequence's end.
        max_len: the padded length T (default: the longest sequence); longer sequences are
            an error.
        dtype: of the padded array (default: the sequences' common dtype).

    Returns:
        ``(X, mask)``: X ``(N, T)`` or ``(N, T, D)``; mask ``(N, T)`` booleans, True at real
        steps — the ``mask`` of ``RNN``/``LSTM``/``GRU`` and the ``key_mask`` of attention.

    Example:
        >>> from deltagrad.data import pad_sequences
        >>> X, mask = pad_sequences([[1, 2, 3], [4]], pad_value=-1)
        >>> X
        array([[ 1,  2,  3],
               [ 4, -1, -1]])
    """
    owner = "pad_sequences"
    if isinstance(sequences, (np.ndarray, Tensor)) or not hasattr(sequences, "__len__") \
            or len(sequences) == 0:
        raise ValueError(f"{owner}: sequences must be a non-empty list of sequences, got "
                         f"{type(sequences).__name__}")
    arrays = [np.asarray(s.data if isinstance(s, Tensor) else s) for s in sequences]
    shapes = {a.shape[1:] for a in arrays}
    if any(a.ndim not in (1, 2) or len(a) == 0 for a in arrays) or len(shapes) > 1:
        raise ValueError(f"{owner}: each sequence must be (T_n,) or (T_n, D) with T_n ≥ 1 and "
                         f"the same D, got shapes {sorted({a.shape for a in arrays})[:4]}")
    if any(a.dtype.kind not in "biuf" for a in arrays):
        raise TypeError(f"{owner}: sequences must hold numbers")
    longest = max(len(a) for a in arrays)
    T = longest if max_len is None else check.positive_int(max_len, "max_len", owner)
    if longest > T:
        raise ValueError(f"{owner}: a sequence of length {longest} is longer than "
                         f"max_len={T}")
    dtype = np.result_type(*arrays) if dtype is None else np.dtype(dtype)
    X = np.full((len(arrays), T) + shapes.pop(), pad_value, dtype=dtype)
    mask = np.zeros((len(arrays), T), dtype=bool)
    for row, a in enumerate(arrays):
        X[row, :len(a)] = a
        mask[row, :len(a)] = True
    return X, mask
