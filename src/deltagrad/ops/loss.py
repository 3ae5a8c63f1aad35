"""Fused canonical pairs of output activation and error function (eq. 2.7, 3.9).

Each takes the output pre-activation ``a``, the target ``t`` and the output ``y`` that the
activation computed from ``a`` (so the VJP reuses it instead of recomputing it). The error is
evaluated stably from ``a`` and never overflows when ``a`` saturates (a = ±800); the VJP with
respect to ``a`` is ``y − t`` exactly. No gradient flows into ``y`` itself: E depends on ``a``.
An optional last input ``s`` of shape (N, 1) weights each pattern's error: E = Σ_n s_n E_n.
"""

from __future__ import annotations

import numpy as np

from .base import Primitive


def _weighted(g, s):
    return g if s is None else g * s


def _sum_of_squares_forward(y, t, s=None):
    d = y - t
    if s is None:
        d = d.ravel()
        return 0.5 * np.dot(d, d)
    return 0.5 * np.sum(s * d * d)


def _sigmoid_bce_forward(a, t, y, s=None):
    """E = −Σ {t ln σ(a) + (1 − t) ln(1 − σ(a))} = Σ {max(a, 0) − a t + ln(1 + e^−|a|)}."""
    terms = np.maximum(a, 0) - a * t + np.log1p(np.exp(-np.abs(a)))
    return np.sum(terms if s is None else s * terms)


def _softmax_ce_forward(a, t, y, s=None, normalised=False):
    """E = −Σ_n Σ_k t_nk ln y_nk = Σ_nk t_nk (ln Σ_j e^{a_nj} − a_nk) (eq. 9.2).

    The log-sum-exp comes from the softmax already computed: at the largest activation
    m_n = max_k a_nk, y_nk = e^{m_n − lse_n} ≥ 1/K, so lse_n = m_n − ln max_k y_nk exactly
    and stably (no exponential is taken again, nothing under- or overflows).
    """
    lse = np.maximum.reduce(a, axis=-1, keepdims=True) - np.log(
        np.maximum.reduce(y, axis=-1, keepdims=True))
    return np.vdot(t if s is None else s * t, lse - a)


def _softmax_ce_vjp(g, ans, a, t, y, s=None, normalised=False):
    """δ_k = y_k Σ_j t_j − t_k, which is y_k − t_k (eq. 3.9) when the targets of each pattern
    sum to one (``normalised=True``, e.g. 1-of-K targets made from class labels)."""
    if normalised:
        return _weighted(g * (y - t), s)
    return _weighted(g * (y * t.sum(axis=-1, keepdims=True) - t), s)


sum_of_squares_error = Primitive("sum_of_squares_error", _sum_of_squares_forward, (
    lambda g, ans, y, t, s=None: _weighted(g * (y - t), s),  # δ_k = y_k − t_k (eq. 2.7)
    lambda g, ans, y, t, s=None: _weighted(g * (t - y), s),
    lambda g, ans, y, t, s: g * 0.5 * ((y - t) * (y - t)).sum(axis=-1, keepdims=True),
))
sigmoid_binary_cross_entropy = Primitive("sigmoid_binary_cross_entropy", _sigmoid_bce_forward, (
    # δ_k = y_k − t_k with y = σ(a) (Proposition 2.6)
    lambda g, ans, a, t, y, s=None: _weighted(g * (y - t), s),
    lambda g, ans, a, t, y, s=None: _weighted(-g * a, s),
    None,
    None,
))
softmax_cross_entropy = Primitive("softmax_cross_entropy", _softmax_ce_forward,
                                  (_softmax_ce_vjp, None, None, None))
