"""Shape primitives: reshape, transpose, indexing and its scatter, broadcast, concatenate, stack."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Primitive


def _inverse_permutation(axes) -> tuple:
    return tuple(np.argsort(axes))


def _transpose_vjp(g, ans, x, axes=None):
    return g.transpose(None if axes is None else _inverse_permutation(axes))


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
))
transpose = Primitive("transpose", lambda x, axes=None: np.transpose(x, axes),
                      (_transpose_vjp,))
broadcast_to = Primitive("broadcast_to", lambda x, shape: np.broadcast_to(x, shape), (
    lambda g, ans, x, shape: g,  # the backward pass sums g back to x's shape
))
_getitem = Primitive("getitem", lambda x, index: x[index], (
    lambda g, ans, x, index: index_put(g, index=index, shape=x.shape),
))
index_put = Primitive("index_put", _index_put_forward, (  # the scatter that getitem's VJP needs
    lambda g, ans, x, index, shape: g[index],
))


def getitem(x, index) -> Tensor:
    """``x[index]``: basic and advanced indexing; the gradient scatters back (summing repeats)."""
    return _getitem(x, index=_normalise_index(index))


def _normalise_index(index):
    """Tensors inside an index become ndarrays (indices carry no gradient)."""
    if isinstance(index, tuple):
        return tuple(_normalise_index(i) for i in index)
    if isinstance(index, Tensor):
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
                         _concatenate_vjp)
_stack = Primitive("stack", lambda *xs, axis=0: np.stack(xs, axis=axis), _stack_vjp)


def concatenate(tensors, axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (as ``np.concatenate``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("concatenate(): expected at least one tensor")
    return _concatenate(*tensors, axis=axis)


def stack(tensors, axis: int = 0) -> Tensor:
    """Join tensors along a new axis (as ``np.stack``)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("stack(): expected at least one tensor")
    return _stack(*tensors, axis=axis)
