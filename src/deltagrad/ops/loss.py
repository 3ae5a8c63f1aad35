"""Fused canonical pairs of output activation and error function (eq. 2.7, 3.9).

Each takes the output pre-activation ``a``, the target ``t`` and the output ``y`` that the
activation computed from ``a`` (so the VJP reuses it instead of recomputing it). The error is
evaluated stably from ``a`` and never overflows when ``a`` saturates (a = ±800); the VJP with
respect to ``a`` is ``y − t`` exactly. An optional last input ``s`` of shape (N, 1) weights each
pattern's error: E = Σ_n s_n E_n.

Every input that can carry a gradient gets one: ``a``, the (soft) targets ``t`` and the weights
``s``. The one exception is ``y``, a cache of f(a): its VJP is ``None`` on purpose, because
E's dependence on y is its dependence on ``a``, which the VJP for ``a`` already carries
(a gradient through y as well would count it twice).
"""

from __future__ import annotations

import functools

import numpy as np

from .base import Primitive, polymorphic, values
from .elementwise import abs as _abs_primitive
from .elementwise import exp, log, maximum

_log, _exp, _abs, _maximum = (polymorphic(log), polymorphic(exp), polymorphic(_abs_primitive),
                              polymorphic(maximum))


def _weighted(g, s):
    return g if s is None else g * s


def _per_row(g, per_pattern: bool):
    """The upstream gradient as (..., 1): per-pattern errors have one value per row."""
    return g.reshape(g.shape + (1,)) if per_pattern else g


def _softplus_minus_at(a, t):
    """max(a, 0) − a t + ln(1 + e^−|a|): each term of the sigmoid cross-entropy (ndarrays in
    the forward, Tensors too in a VJP)."""
    return _maximum(a, 0.0) - a * t + _log(1 + _exp(-_abs(a)))


def _lse_minus_a(a, y):
    """ln Σ_j e^{a_j} − a_k = −ln y_k, from the softmax already computed: at the largest
    activation m = max_k a_k, y = e^{m − lse} ≥ 1/K, so lse = m − ln max_k y exactly."""
    return a.max(axis=-1, keepdims=True) - _log(y.max(axis=-1, keepdims=True)) - a


def _sum_of_squares_forward(y, t, s=None):
    d = y - t
    if s is None:
        d = d.ravel()
        return 0.5 * np.dot(d, d)
    return 0.5 * np.sum(s * d * d)


def _sigmoid_bce_forward(a, t, y, s=None):
    """E = −Σ {t ln σ(a) + (1 − t) ln(1 − σ(a))} = Σ {max(a, 0) − a t + ln(1 + e^−|a|)}."""
    terms = _softplus_minus_at(a, t)
    return np.sum(terms if s is None else s * terms)


def _softmax_ce_forward(a, t, y, s=None, normalised=False, per_pattern=False):
    """E = −Σ_n Σ_k t_nk ln y_nk = Σ_nk t_nk (ln Σ_j e^{a_nj} − a_nk) (eq. 9.2); with
    ``per_pattern`` the vector of E_n, shape ``a.shape[:-1]``.

    The log-sum-exp comes from the softmax already computed (see ``_lse_minus_a``): no
    exponential is taken again, nothing under- or overflows.
    """
    weighted = t if s is None else s * t
    if per_pattern:
        return np.sum(weighted * _lse_minus_a(a, y), axis=-1)
    return np.vdot(weighted, _lse_minus_a(a, y))


def _softmax_ce_vjp(g, ans, a, t, y, s=None, normalised=False, per_pattern=False):
    """δ_k = y_k Σ_j t_j − t_k, which is y_k − t_k (eq. 3.9) when the targets of each pattern
    sum to one (``normalised=True``, e.g. 1-of-K targets made from class labels)."""
    g = _per_row(g, per_pattern)
    if normalised:
        return _weighted(g * (y - t), s)
    return _weighted(g * (y * t.sum(axis=-1, keepdims=True) - t), s)


def _softmax_ce_vjp_t(g, ans, a, t, y, s=None, normalised=False, per_pattern=False):
    """∂E/∂t_k = s (lse − a_k) = −s ln y_k: soft targets get a gradient too."""
    return _weighted(_per_row(g, per_pattern) * _lse_minus_a(a, y), s)


def _softmax_ce_vjp_s(g, ans, a, t, y, s, normalised=False, per_pattern=False):
    """∂E/∂s_n = E_n = Σ_k t_nk (lse_n − a_nk)."""
    return _per_row(g, per_pattern) * (t * _lse_minus_a(a, y)).sum(axis=-1, keepdims=True)


sum_of_squares_error = Primitive("sum_of_squares_error", _sum_of_squares_forward, (
    lambda g, ans, y, t, s=None: _weighted(g * (y - t), s),  # δ_k = y_k − t_k (eq. 2.7)
    lambda g, ans, y, t, s=None: _weighted(g * (t - y), s),
    lambda g, ans, y, t, s: g * 0.5 * ((y - t) * (y - t)).sum(axis=-1, keepdims=True),
))
sigmoid_binary_cross_entropy = Primitive("sigmoid_binary_cross_entropy", _sigmoid_bce_forward, (
    # δ_k = y_k − t_k with y = σ(a) (Proposition 2.6)
    lambda g, ans, a, t, y, s=None: _weighted(g * (y - t), s),
    lambda g, ans, a, t, y, s=None: _weighted(-g * a, s),
    None,  # y is the cache of σ(a): see the module docstring
    lambda g, ans, a, t, y, s: g * _softplus_minus_at(a, t).sum(axis=-1, keepdims=True),
))
softmax_cross_entropy = Primitive("softmax_cross_entropy", _softmax_ce_forward,
                                  (_softmax_ce_vjp, _softmax_ce_vjp_t, None, _softmax_ce_vjp_s))


def _label_rows(labels) -> tuple:
    """The (row, class) index pairs of integer labels ``(N,)``: picks y_{n, t_n}."""
    labels = values(labels)
    return np.arange(len(labels)), labels


@functools.lru_cache(maxsize=64)
def identity_rows(num_classes: int, dtype) -> np.ndarray:
    """The K×K identity, read-only and cached: row k is the 1-of-K target of class k."""
    eye = np.eye(num_classes, dtype=dtype)
    eye.flags.writeable = False
    return eye


def _softmax_ce_labels_forward(a, labels, y):
    """E = −Σ_n ln y_{n t_n} (eq. 9.2 with 1-of-K targets, read by class index instead of
    multiplied by a one-hot matrix).

    ln y_t is as exact as the log-sum-exp form while y_t is a normal number (y_t carries a
    relative error of a few ulp, so ln y_t an absolute one of a few ulp); where some y_t has
    underflowed, E is the log-sum-exp form ``_lse_minus_a``, which never overflows.
    """
    picked = y[_label_rows(labels)]
    if picked.min() > _TINY[y.dtype]:
        return -np.log(picked).sum()
    return (a.max(axis=-1) - np.log(y.max(axis=-1))).sum() - a[_label_rows(labels)].sum()


_TINY = {np.dtype(t): np.finfo(t).tiny for t in (np.float16, np.float32, np.float64)}


def _softmax_ce_labels_vjp(g, ans, a, labels, y):
    """δ_k = y_k − t_k (eq. 3.9), the targets t being rows of the identity picked by label
    (a constant: ndarrays in a plain backward pass and Tensors alike)."""
    return g * (y - identity_rows(y.shape[-1], y.dtype)[values(labels)])


# the labels-only fast path of softmax_cross_entropy: (N, K) activations, labels (N,) int
softmax_cross_entropy_labels = Primitive(
    "softmax_cross_entropy_labels", _softmax_ce_labels_forward,
    (_softmax_ce_labels_vjp, None, None),  # labels carry no gradient; y: see the docstring
    integer_args=(1,))
