"""Matrix products: ``matmul`` and the fused layer primitive ``linear`` (eq. 1.2, 3.10–3.11)."""

from __future__ import annotations

import numpy as np

from .base import Primitive


def _matmul_vjp_a(g, ans, a, b):
    if b.ndim == 1:  # (..., n, k) @ (k,) -> (..., n)
        return g.reshape(g.shape + (1,)) * b
    if a.ndim == 1:  # (k,) @ (..., k, m) -> (..., m)
        return (b @ g.reshape(g.shape + (1,))).reshape(g.shape[:-1] + (b.shape[-2],))
    return g @ b.swapaxes(-1, -2)


def _matmul_vjp_b(g, ans, a, b):
    if a.ndim == 1 and b.ndim == 1:
        return g * a
    if a.ndim == 1:  # (k,) @ (..., k, m): dB[..., k, m] = a_k g[..., m]
        return a.reshape((-1, 1)) * g.reshape(g.shape[:-1] + (1, g.shape[-1]))
    if b.ndim == 1:  # (..., n, k) @ (k,): dB_k = Σ_n a[..., n, k] g[..., n]
        return a * g.reshape(g.shape + (1,))
    return a.swapaxes(-1, -2) @ g


def _linear_forward(x, w, b=None):
    out = x @ w.T
    if b is not None:
        out += b
    return out


def _linear_vjp_x(g, ans, x, w, b=None):
    """∂E/∂z_i = Σ_j w_ji δ_j: the sum inside rule 2 (eq. 3.10)."""
    return g @ w


def _linear_vjp_w(g, ans, x, w, b=None):
    """∂E/∂w_ji = Σ_n δ_j z_i (rule 3, eq. 3.11), summed over the patterns.

    Computed in the memory layout of ``w`` (column-major for ``nn.Linear``), so that the
    optimiser's in-place update never mixes layouts (which is many times slower).
    """
    if x.ndim != 2:
        g, x = g.reshape((-1, w.shape[0])), x.reshape((-1, w.shape[1]))
    if type(w) is np.ndarray and w.flags.f_contiguous and not w.flags.c_contiguous:
        return (x.T @ g).T
    return g.T @ x


def _linear_vjp_b(g, ans, x, w, b=None):
    """∂E/∂w_j0 = Σ_n δ_j (the bias input is z_0 = 1)."""
    if g.ndim == 1:
        return g
    if g.ndim == 2:
        return g.sum(axis=0)
    return g.reshape((-1, w.shape[0])).sum(axis=0)


matmul = Primitive("matmul", np.matmul, (_matmul_vjp_a, _matmul_vjp_b))
linear = Primitive("linear", _linear_forward, (_linear_vjp_x, _linear_vjp_w, _linear_vjp_b))
