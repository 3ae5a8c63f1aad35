"""Shape primitives: reshape, transpose, indexing and its scatter, broadcast, concatenate, stack,
pad, repeat/tile, tril/triu; split is composed from indexing.

Axes and permutations are normalised once (``base.normalise_axis``/``normalise_permutation``)
before they reach a primitive, so the VJPs only see non-negative axes.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import (EXACT, KEEP, Primitive, ndim_of, normalise_axis, normalise_permutation,
                   polymorphic)


def _inverse_permutation(axes) -> tuple:
    return tuple(int(a) for a in np.argsort(axes))


def _transpose_vjp(g, ans, x, axes=None):
    return g.transpose(None if axes is None else _inverse_permutation(axes))


def _tile_vjp(g, ans, x, reps):
    """Sum the copies: view g as (r_0, n_0, r_1, n_1, …) and sum over the r's."""
    shape = (1,) * (len(reps) - x.ndim) + x.shape
    split = tuple(d for pair in zip(reps, shape) for d in pair)
    return g.reshape(split).sum(axis=tuple(range(0, 2 * len(reps), 2))).reshape(x.shape)


def _repeat_vjp(g, ans, x, repeats, axis):
    """Sum each element's ``repeats`` consecutive copies along ``axis``."""
    if axis is None:
        return g.reshape((x.size, repeats)).sum(axis=1).reshape(x.shape)
    shape = x.shape[:axis] + (x.shape[axis], repeats) + x.shape[axis + 1:]
    return g.reshape(shape).sum(axis=axis + 1)


def _pad_vjp(g, ans, x, pad_width, value=0.0):
    return g[tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))]


def _is_basic_index(index) -> bool:
    """Basic indices (ints, slices, None, ...) never select an element twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis
               for p in parts)


def _index_put_forward(g, index, shape):
    out = np.zeros(shape, dtype=g.dtype)
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


reshape = Primitive("reshape", lambda x, shape: np.reshape(x, shape), (
    lambda g, ans, x, shape: g.reshape(x.shape),
), integers=KEEP)
_transpose = Primitive("transpose", lambda x, axes=None: np.transpose(x, axes),
                       (_transpose_vjp,), integers=KEEP)
broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), (
    lambda g, ans, x, shape: g,  # the backward pass sums g back to x's shape
), integers=KEEP)
_getitem = Primitive("getitem", lambda x, index: x[index], (
    lambda g, ans, x, index: index_put(g, index=index, shape=x.shape),
), integers=KEEP)
index_put = Primitive("index_put", _index_put_forward, (  # the scatter that getitem's VJP needs
    lambda g, ans, x, index, shape: g[index],
), integers=EXACT)
_tile = Primitive("tile", lambda x, reps: np.tile(x, reps), (_tile_vjp,), integers=KEEP)
_repeat = Primitive("repeat", lambda x, repeats, axis: np.repeat(x, repeats, axis=axis),
                    (_repeat_vjp,), integers=KEEP)
_pad = Primitive("pad", lambda x, pad_width, value=0.0: np.pad(
    x, pad_width, constant_values=value) if x.ndim else x.copy(), (_pad_vjp,))
_tril_op = Primitive("tril", lambda x, k=0: np.tril(x, k), (
    lambda g, ans, x, k=0: _tril(g, k=k),
), integers=KEEP)
_triu_op = Primitive("triu", lambda x, k=0: np.triu(x, k), (
    lambda g, ans, x, k=0: _triu(g, k=k),
), integers=KEEP)
_tril, _triu = polymorphic(_tril_op), polymorphic(_triu_op)


def transpose(x, axes=None) -> Tensor:
    """Permute the axes (reverse them when ``axes`` is None); negative axes count from the end.
    Shape: ``x.shape`` permuted."""
    if axes is not None:
        axes = normalise_permutation(axes, ndim_of(x), "transpose")
    return _transpose(x, axes=axes)


def getitem(x, index) -> Tensor:
    """``x[index]``: basic and advanced indexing; the gradient scatters back (summing repeats)."""
    return _getitem(x, index=_normalise_index(index))


def _normalise_index(index):
    """Tensors inside an index become ndarrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_normalise_index(i) for i in index)
    if isinstance(index, Tensor):
        if index.dtype.kind == "f":
            raise IndexError(f"getitem(): an index tensor must hold integers or booleans, got "
                             f"dtype {index.dtype} (make it with dg.tensor([...]) of ints, or "
                             f".astype('int64'))")
        return index.data
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _concatenate_vjp(i):
    def vjp(g, ans, *xs, axis=0):
        start = int(np.sum([x.shape[axis] for x in xs[:i]], dtype=int))
        index = [slice(None)] * g.ndim
        index[axis] = slice(start, start + xs[i].shape[axis])
        return g[tuple(index)]
    return vjp


def _stack_vjp(i):
    def vjp(g, ans, *xs, axis=0):
        index = [slice(None)] * g.ndim
        index[axis] = i
        return g[tuple(index)]
    return vjp


_concatenate = Primitive("concatenate", lambda *xs, axis=0: np.concatenate(xs, axis=axis),
                         _concatenate_vjp, integers=KEEP)
_stack = Primitive("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), _stack_vjp,
                   integers=KEEP)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (as ``np.concatenate``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate(): expected at least one tensor")
    return _concatenate(*tensors, axis=normalise_axis(axis, ndim_of(tensors[0]), "concatenate"))


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis (as ``np.stack``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack(): expected at least one tensor")
    return _stack(*tensors, axis=normalise_axis(axis, ndim_of(tensors[0]) + 1, "stack"))


def _whole(value, name: str, op: str, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{op}(): {name} must be an int ≥ {low}, got {value!r}")
    return int(value)


def pad(x, pad_width, value: float = 0.0) -> Tensor:
    """Pad with a constant, as ``np.pad(x, pad_width, constant_values=value)``: ``pad_width``
    is an int, a ``(before, after)`` pair or one pair per axis. Shape: each axis grows by
    ``before + after``.

    Example:
        >>> import deltagrad as dg
        >>> dg.pad(dg.tensor([[1.0, 2.0]]), ((0, 0), (1, 2)))
        tensor([[0., 1., 2., 0., 0.]])
    """
    ndim = ndim_of(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (ndim, 2))
    except ValueError as err:
        raise ValueError(f"pad(): pad_width must be an int, a (before, after) pair or {ndim} "
                         f"pairs, got {pad_width!r}") from err
    widths = tuple((_whole(b, "pad_width", "pad"), _whole(a, "pad_width", "pad"))
                   for b, a in widths.tolist())
    return _pad(x, pad_width=widths, value=float(value))


def split(x, indices_or_sections, axis: int = 0) -> list:
    """Split along ``axis`` as ``np.split``: an int N gives N equal parts (an error if the
    length does not divide), a list of indices gives the parts between them. Composed from
    ``getitem``, so each part's gradient scatters back.

    Example:
        >>> import deltagrad as dg
        >>> [part.shape for part in dg.split(dg.tensor(np.zeros((2, 5))), [1, 3], axis=-1)]
        [(2, 1), (2, 2), (2, 2)]
    """
    axis = normalise_axis(axis, ndim_of(x), "split")
    length = np.shape(x.data if isinstance(x, Tensor) else x)[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        parts = _whole(indices_or_sections, "indices_or_sections", "split", low=1)
        if length % parts:
            raise ValueError(f"split(): axis {axis} of length {length} does not divide into "
                             f"{parts} equal parts")
        bounds = [length // parts * i for i in range(parts + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    head = (slice(None),) * axis
    return [getitem(x, head + (slice(lo, max(lo, hi)),)) for lo, hi in zip(bounds, bounds[1:])]


def repeat(x, repeats: int, axis=None) -> Tensor:
    """Repeat each element ``repeats`` times along ``axis`` (of the flattened tensor when
    None), as ``np.repeat`` / ``torch.repeat_interleave``. Shape: ``axis`` times ``repeats``."""
    repeats = _whole(repeats, "repeats", "repeat")
    if axis is not None:
        axis = normalise_axis(axis, ndim_of(x), "repeat")
    return _repeat(x, repeats=repeats, axis=axis)


def tile(x, reps) -> Tensor:
    """Tile ``x`` as ``np.tile`` (``torch.Tensor.repeat``): ``reps`` copies along each axis,
    with axes prepended when ``reps`` is longer than ``x.ndim``.

    Example:
        >>> import deltagrad as dg
        >>> dg.tile(dg.tensor([1.0, 2.0]), 2), dg.repeat(dg.tensor([1.0, 2.0]), 2)
        (tensor([1., 2., 1., 2.]), tensor([1., 1., 2., 2.]))
    """
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    reps = tuple(_whole(r, "reps", "tile") for r in reps)
    reps = (1,) * (ndim_of(x) - len(reps)) + reps
    return _tile(x, reps=reps)


def _check_matrix(x, op: str) -> None:
    if ndim_of(x) < 2:
        raise ValueError(f"{op}(): x must have at least 2 dimensions, got {ndim_of(x)}")


def tril(x, k: int = 0) -> Tensor:
    """The lower triangle (entries with column − row ≤ k) of the last two axes; the rest 0."""
    _check_matrix(x, "tril")
    return _tril_op(x, k=int(k))


def triu(x, k: int = 0) -> Tensor:
    """The upper triangle (entries with column − row ≥ k) of the last two axes; the rest 0."""
    _check_matrix(x, "triu")
    return _triu_op(x, k=int(k))
