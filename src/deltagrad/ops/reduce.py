"""Reductions over an axis: sum, mean, max, and the softmax family (stable at ±1000)."""

from __future__ import annotations

import builtins

import numpy as np

from .base import Primitive, polymorphic
from .elementwise import exp
from .shape import broadcast_to

_exp, _broadcast_to = polymorphic(exp), polymorphic(broadcast_to)


def _normalise_axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    size = builtins.max(ndim, 1)  # this module's `max` is the primitive
    for a in axes:
        if not -ndim <= a < size:
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % size)
    return tuple(out)


def keep_reduced_axes(g, x_shape: tuple, axis, keepdims: bool):
    """Reshape a reduced result so that it broadcasts against the unreduced input."""
    if keepdims:
        return g
    axes = _normalise_axes(axis, len(x_shape))
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return g.reshape(kept)


def _sum_forward(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def _max_forward(x, axis=None, keepdims=False):
    if x.size == 0:
        raise ValueError(f"max(): the tensor of shape {x.shape} is empty")
    return np.max(x, axis=axis, keepdims=keepdims)


def _max_vjp(g, ans, x, axis=None, keepdims=False):
    """Ties share the gradient equally (as torch.amax)."""
    ans = keep_reduced_axes(ans, x.shape, axis, keepdims)
    mask = (x == ans).astype(x.dtype)
    return keep_reduced_axes(g, x.shape, axis, keepdims) * mask / mask.sum(axis=axis,
                                                                            keepdims=True)


def _logsumexp_forward(x, axis=-1, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_forward(x, axis=-1):
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax_forward(x, axis=-1):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


sum = Primitive("sum", _sum_forward, (  # noqa: A001
    lambda g, ans, x, axis=None, keepdims=False:
        _broadcast_to(keep_reduced_axes(g, x.shape, axis, keepdims), shape=x.shape),
))
max = Primitive("max", _max_forward, (_max_vjp,))  # noqa: A001
logsumexp = Primitive("logsumexp", _logsumexp_forward, (
    lambda g, ans, x, axis=-1, keepdims=False:
        keep_reduced_axes(g, x.shape, axis, keepdims)
        * _exp(x - keep_reduced_axes(ans, x.shape, axis, keepdims)),
))
softmax = Primitive("softmax", _softmax_forward, (  # y_k = exp(a_k) / Σ_j exp(a_j)
    lambda g, ans, x, axis=-1: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),
))
log_softmax = Primitive("log_softmax", _log_softmax_forward, (
    lambda g, ans, x, axis=-1: g - _exp(ans) * g.sum(axis=axis, keepdims=True),
))


def mean(x, axis=None, keepdims: bool = False):
    """Mean over ``axis`` (all axes by default): ``sum / count``, composed from ``sum``."""
    shape = x.shape if hasattr(x, "shape") else np.shape(x)
    count = int(np.prod([shape[a] for a in _normalise_axes(axis, len(shape))]))
    return sum(x, axis=axis, keepdims=keepdims) / count
