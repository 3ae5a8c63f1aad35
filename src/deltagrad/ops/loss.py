"""Fused canonical pairs of output activation and error function (eq. 2.7, 3.9).

Each takes the output pre-activation ``a`` and the target ``t``; its VJP with respect to ``a``
is ``y − t`` exactly, and the forward never overflows when ``a`` saturates (a = ±800).
"""

from __future__ import annotations

import numpy as np

from .base import Primitive
from .elementwise import sigmoid
from .reduce import softmax


def _sum_of_squares_forward(y, t):
    d = y - t
    return 0.5 * np.sum(d * d)


def _sigmoid_bce_forward(a, t):
    """E = −Σ {t ln σ(a) + (1 − t) ln(1 − σ(a))} = Σ {max(a, 0) − a t + ln(1 + e^−|a|)}."""
    return np.sum(np.maximum(a, 0) - a * t + np.log1p(np.exp(-np.abs(a))))


def _softmax_ce_forward(a, t):
    """E = −Σ_n Σ_k t_nk ln y_nk = Σ_n (Σ_k t_nk) ln Σ_j e^{a_nj} − Σ_nk t_nk a_nk (eq. 9.2)."""
    m = np.max(a, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True)) + m
    return np.sum(t * (lse - a))


sum_of_squares_error = Primitive("sum_of_squares_error", _sum_of_squares_forward, (
    lambda g, ans, y, t: g * (y - t),  # identity output: δ_k = y_k − t_k (eq. 2.7)
    lambda g, ans, y, t: g * (t - y),
))
sigmoid_binary_cross_entropy = Primitive("sigmoid_binary_cross_entropy", _sigmoid_bce_forward, (
    lambda g, ans, a, t: g * (sigmoid(a) - t),  # δ_k = y_k − t_k (Proposition 2.6)
    lambda g, ans, a, t: -g * a,
))
softmax_cross_entropy = Primitive("softmax_cross_entropy", _softmax_ce_forward, (
    # δ_k = y_k Σ_j t_j − t_k, which is y_k − t_k for targets that sum to one (eq. 3.9)
    lambda g, ans, a, t: g * (softmax(a, axis=-1) * t.sum(axis=-1, keepdims=True) - t),
    None,
))
