"""Reductions over axes: sum, mean, max, prod, var/std, cumsum, arg-max/min, and the softmax
family (stable at ±1000).

Every function here takes ``axis`` positionally or by keyword and normalises it once, with
NumPy's rules (negative axes; a 0-d tensor accepts 0 and −1), through ``base.normalise_axes``;
the primitives and their VJPs only ever see a sorted tuple of non-negative axes.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import EXACT, KEEP, Primitive, ndim_of, normalise_axes, polymorphic, values
from .elementwise import _exp, _where
from .shape import broadcast_to

_broadcast_to = polymorphic(broadcast_to)


def keep_reduced_axes(g, x_shape: tuple, axis, keepdims: bool):
    """Reshape a reduced result so that it broadcasts against the unreduced input."""
    if keepdims:
        return g
    axes = normalise_axes(axis, len(x_shape), "keep_reduced_axes")
    kept = tuple(1 if i in axes else n for i, n in enumerate(x_shape))
    return g.reshape(kept)


def _count(shape: tuple, axes: tuple) -> int:
    """How many elements each reduced slice holds."""
    return int(np.prod([shape[a] for a in axes], dtype=np.int64))


def _max_forward(x, axis, keepdims=False):
    if x.size == 0:
        raise ValueError(f"max(): the tensor of shape {x.shape} is empty")
    return np.max(x, axis=axis, keepdims=keepdims)


def _max_vjp(g, ans, x, axis, keepdims=False):
    """Ties share the gradient equally (as torch.amax)."""
    ans = keep_reduced_axes(ans, x.shape, axis, keepdims)
    mask = (values(x) == values(ans)).astype(x.dtype)
    return keep_reduced_axes(g, x.shape, axis, keepdims) * mask / mask.sum(axis=axis,
                                                                            keepdims=True)


def _logsumexp_forward(x, axis, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0).astype(x.dtype, copy=False)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_forward(x, axis):
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    e /= np.add.reduce(e, axis=axis, keepdims=True)
    return e


def _log_softmax_forward(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def _var_vjp(g, ans, x, axis, ddof=0, keepdims=False):
    """∂var/∂x_i = 2 (x_i − x̄) / (n − ddof)."""
    centred = x - x.mean(axis=axis, keepdims=True)
    return keep_reduced_axes(g, x.shape, axis, keepdims) * centred * (
        2.0 / (_count(x.shape, axis) - ddof))


def _std_vjp(g, ans, x, axis, ddof=0, keepdims=False):
    """∂std/∂x_i = (x_i − x̄) / ((n − ddof) std), taken as 0 where std = 0 (as torch)."""
    centred = x - x.mean(axis=axis, keepdims=True)
    std = keep_reduced_axes(ans, x.shape, axis, keepdims)
    flat = values(std) == 0
    return keep_reduced_axes(g, x.shape, axis, keepdims) * centred / (
        _where(flat, 1.0, std) * (_count(x.shape, axis) - ddof))


def _prod_vjp(g, ans, x, axis, keepdims=False):
    """∂/∂x_i Π_j x_j = Π_{j≠i} x_j, exact with zeros, and so are its own derivatives (the
    second derivatives Π_{j≠i,k} x_j, as PyTorch): with P the product of the non-zero entries
    of a slice and S the sum of its zero entries (the value 0, but ∂S/∂x_k = 1 for each
    zero x_k), Π_{j≠i} x_j is

    - no zero: P / x_i;
    - one zero x_k: P for i = k, (P / x_i) · S for the others (S is x_k);
    - two zeros x_k, x_l: P · (S − x_k) = P · x_l for i = k, 0 for the others (two zero
      factors: 0 with zero derivatives);
    - three or more: 0.

    Every branch is finite (the division is by non-zero entries only), so ``where`` masks
    no 0 · ∞ that a derivative of this VJP could meet."""
    zero = values(x) == 0
    zeros = zero.sum(axis=axis, keepdims=True)
    nonzero = _where(zero, 1.0, x)
    rest = _prod(nonzero, axis=axis, keepdims=True)  # P, the product of the non-zero entries
    zero_sum = _where(zero, x, 0.0).sum(axis=axis, keepdims=True)  # S
    at_zeros = _where(zeros == 1, rest, _where(zeros == 2, rest * (zero_sum - x), 0.0))
    at_others = _where(zeros == 0, rest / nonzero,
                       _where(zeros == 1, rest / nonzero * zero_sum, 0.0))
    return keep_reduced_axes(g, x.shape, axis, keepdims) * _where(zero, at_zeros, at_others)


def _cumsum_vjp(g, ans, x, axis):
    """The gradient of a running sum is the running sum from the end."""
    if axis is None:
        return _reverse_cumsum(g, 0).reshape(x.shape)
    return _reverse_cumsum(g, axis)


def _reverse_cumsum(g, axis: int):
    flip = (slice(None),) * axis + (slice(None, None, -1),)
    return _cumsum(g[flip], axis=axis)[flip]


_sum = Primitive("sum", lambda x, axis, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims), (
    lambda g, ans, x, axis, keepdims=False:
        _broadcast_to(keep_reduced_axes(g, x.shape, axis, keepdims), shape=x.shape),
), integers=EXACT)
_max = Primitive("max", _max_forward, (_max_vjp,), integers=KEEP)
_prod_primitive = Primitive("prod", lambda x, axis, keepdims=False:
                            np.prod(x, axis=axis, keepdims=keepdims), (_prod_vjp,),
                            integers=EXACT)
_var = Primitive("var", lambda x, axis, ddof=0, keepdims=False:
                 np.var(x, axis=axis, ddof=ddof, keepdims=keepdims), (_var_vjp,))
_std = Primitive("std", lambda x, axis, ddof=0, keepdims=False:
                 np.std(x, axis=axis, ddof=ddof, keepdims=keepdims), (_std_vjp,))
_cumsum_primitive = Primitive("cumsum", lambda x, axis: np.cumsum(x, axis=axis), (_cumsum_vjp,),
                              integers=EXACT)
_logsumexp = Primitive("logsumexp", _logsumexp_forward, (
    lambda g, ans, x, axis, keepdims=False:
        keep_reduced_axes(g, x.shape, axis, keepdims)
        * _exp(x - keep_reduced_axes(ans, x.shape, axis, keepdims)),
))
_softmax = Primitive("softmax", _softmax_forward, (  # y_k = exp(a_k) / Σ_j exp(a_j)
    lambda g, ans, x, axis: ans * (g - (g * ans).sum(axis=axis, keepdims=True)),
))
_log_softmax = Primitive("log_softmax", _log_softmax_forward, (
    lambda g, ans, x, axis: g - _exp(ans) * g.sum(axis=axis, keepdims=True),
))
_prod, _cumsum = polymorphic(_prod_primitive), polymorphic(_cumsum_primitive)


def _axes(x, axis, op: str) -> tuple:
    return normalise_axes(axis, ndim_of(x), op)


def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ over ``axis`` (all by default). Shape: ``x.shape`` without the reduced axes."""
    return _sum(x, axis=_axes(x, axis, "sum"), keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest value over ``axis``; ties share the gradient equally (as ``torch.amax``)."""
    return _max(x, axis=_axes(x, axis, "max"), keepdims=keepdims)


def prod(x, axis=None, keepdims: bool = False) -> Tensor:
    """Π over ``axis`` (all by default); exact gradient where entries are zero.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([2.0, 0.0, 3.0], requires_grad=True)
        >>> dg.prod(x).backward()
        >>> x.grad  # only the zero entry moves the product: by 2 · 3
        array([0., 6., 0.])
    """
    return _prod_primitive(x, axis=_axes(x, axis, "prod"), keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default): ``sum / count``, composed from ``sum``."""
    axes = _axes(x, axis, "mean")
    return _sum(x, axis=axes, keepdims=keepdims) / _count(np.shape(values(x)), axes)


def _check_ddof(ddof, x, axes: tuple, op: str):
    if not isinstance(ddof, (int, np.integer)) or isinstance(ddof, bool) or ddof < 0:
        raise ValueError(f"{op}(): ddof must be an int ≥ 0, got {ddof!r}")
    n = _count(np.shape(values(x)), axes)
    if ddof >= n:
        raise ValueError(f"{op}(): ddof={ddof} needs more than {ddof} values per slice, "
                         f"but each slice has {n}")


def var(x, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Σ (x − x̄)² / (n − ddof) over ``axis``. ``ddof=0`` by default, as NumPy (torch.var's
    default is the unbiased ``ddof=1``: pass it explicitly for torch's value).

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([[1.0, 3.0], [2.0, 6.0]])
        >>> dg.var(x, -1), dg.var(x, axis=-1, ddof=1)
        (tensor([1., 4.]), tensor([2., 8.]))
    """
    axes = _axes(x, axis, "var")
    _check_ddof(ddof, x, axes, "var")
    return _var(x, axis=axes, ddof=int(ddof), keepdims=keepdims)


def std(x, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """√var over ``axis``, ``ddof=0`` by default as NumPy (see :func:`var`). Where every value
    of a slice is equal (std = 0) the derivative is taken as 0, as torch."""
    axes = _axes(x, axis, "std")
    _check_ddof(ddof, x, axes, "std")
    return _std(x, axis=axes, ddof=int(ddof), keepdims=keepdims)


def cumsum(x, axis=None) -> Tensor:
    """Running sum along ``axis`` (of the flattened tensor when ``None``, as NumPy).
    Shape: ``x.shape`` (``(x.size,)`` for ``axis=None``)."""
    if axis is not None:
        (axis,) = _axes(x, axis, "cumsum") or (None,)
    return _cumsum_primitive(x, axis=axis)


def logsumexp(x, axis=-1, keepdims: bool = False) -> Tensor:
    """ln Σ exp(x) over ``axis`` (the last by default), stable at ±1000."""
    return _logsumexp(x, axis=_axes(x, axis, "logsumexp"), keepdims=keepdims)


def softmax(x, axis=-1) -> Tensor:
    """y_k = exp(x_k) / Σ_j exp(x_j) over ``axis`` (the last by default); shape of ``x``."""
    return _softmax(x, axis=_axes(x, axis, "softmax"))


def log_softmax(x, axis=-1) -> Tensor:
    """ln softmax(x) over ``axis``, computed stably; shape of ``x``."""
    return _log_softmax(x, axis=_axes(x, axis, "log_softmax"))


def _arg_reduce(np_fn, x, axis, keepdims: bool, op: str) -> Tensor:
    data = np.asarray(values(x))
    if data.size == 0:
        raise ValueError(f"{op}(): the tensor of shape {data.shape} is empty")
    if axis is not None:
        (axis,) = _axes(data, axis, op) or (None,)
    out = np_fn(data, axis=axis, keepdims=keepdims)
    return Tensor._wrap(np.asarray(out, dtype=np.int64))


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when ``axis`` is None): an int64
    tensor outside the graph (no gradient). Ties give the first index, as NumPy.

    Example:
        >>> import deltagrad as dg
        >>> dg.argmax(dg.tensor([[0.1, 0.7], [0.9, 0.2]]), -1)
        tensor([1, 0], dtype=int64)
    """
    return _arg_reduce(np.argmax, x, axis, keepdims, "argmax")


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value, as :func:`argmax`: int64, no gradient."""
    return _arg_reduce(np.argmin, x, axis, keepdims, "argmin")
