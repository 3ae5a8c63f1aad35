"""Smooth and leaky activation primitives beyond the notes' (softplus, leaky ReLU, ELU, GELU,
SiLU), each forward next to its VJP; the VJPs use deltagrad's ops, so they differentiate twice.

Semantics and parameters follow ``torch.nn.functional``.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import Primitive, polymorphic
from .elementwise import _erf_forward, _exp, _expit, _where, sigmoid, tanh
from .elementwise import erf as _erf_primitive

_sigmoid, _tanh, _erf = polymorphic(sigmoid), polymorphic(tanh), polymorphic(_erf_primitive)
# Python floats, which take the tensor's dtype (an np.float64 constant would turn float32 to 64)
_SQRT_2_OVER_PI = float(np.sqrt(2 / np.pi))
_SQRT_2, _INV_SQRT_2PI = float(np.sqrt(2)), float(1 / np.sqrt(2 * np.pi))
_TANH_CUBIC = 0.044715
GELU_APPROXIMATIONS = ("none", "tanh")


def _softplus_forward(x, beta=1.0, threshold=20.0):
    """ln(1 + e^(βx)) / β, and x itself where βx > threshold (as torch)."""
    bx = beta * x
    return np.where(bx > threshold, x, np.logaddexp(0, bx) / beta).astype(x.dtype, copy=False)


def _softplus_vjp(g, ans, x, beta=1.0, threshold=20.0):
    """softplus'(x) = σ(βx), 1 where the forward is linear."""
    bx = beta * x
    return g * _where(bx > threshold, 1.0, _sigmoid(bx))


def _elu_forward(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))).astype(x.dtype, copy=False)


def _gelu_forward(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x ** 3)))
    return 0.5 * x * (1 + _erf_forward(x / _SQRT_2))


def _gelu_vjp(g, ans, x, approximate="none"):
    """Exact: Φ(x) + x φ(x). Tanh form: with t = tanh(u), u = √(2/π)(x + 0.044715 x³),
    ½(1 + t) + ½ x (1 − t²) √(2/π)(1 + 3·0.044715 x²)."""
    if approximate == "tanh":
        t = _tanh(_SQRT_2_OVER_PI * (x + _TANH_CUBIC * x * x * x))
        du = _SQRT_2_OVER_PI * (1 + 3 * _TANH_CUBIC * x * x)
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
    cdf = 0.5 * (1 + _erf(x * (1 / _SQRT_2)))
    pdf = _exp(-0.5 * x * x) * _INV_SQRT_2PI
    return g * (cdf + x * pdf)


def _silu_vjp(g, ans, x):
    """silu'(x) = σ(x)(1 + x(1 − σ(x)))."""
    s = _sigmoid(x)
    return g * s * (1 + x * (1 - s))


_softplus = Primitive("softplus", _softplus_forward, (_softplus_vjp,))
_leaky_relu = Primitive("leaky_relu", lambda x, negative_slope=0.01:
                        np.where(x > 0, x, negative_slope * x).astype(x.dtype, copy=False), (
    lambda g, ans, x, negative_slope=0.01: _where(x > 0, g, g * negative_slope),  # slope at 0
))
_elu = Primitive("elu", _elu_forward, (
    lambda g, ans, x, alpha=1.0: _where(x > 0, g, g * (ans + alpha)),  # α e^x = y + α for x ≤ 0
))
_gelu = Primitive("gelu", _gelu_forward, (_gelu_vjp,))
silu = Primitive("silu", lambda x: x * _expit(x), (_silu_vjp,))


def _number(value, name: str, op: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}(): {name} must be a number, got {type(value).__name__}")
    return float(value)


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βx)) / β, linear where βx > threshold (as torch). Shape of ``x``."""
    beta = _number(beta, "beta", "softplus")
    if beta <= 0:
        raise ValueError(f"softplus(): beta must be > 0, got {beta}")
    return _softplus(x, beta=beta, threshold=_number(threshold, "threshold", "softplus"))


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, ``negative_slope``·x otherwise (derivative at 0: the slope, as torch)."""
    return _leaky_relu(x, negative_slope=_number(negative_slope, "negative_slope",
                                                 "leaky_relu"))


def elu(x, alpha: float = 1.0) -> Tensor:
    """x for x > 0, α(e^x − 1) otherwise. Shape of ``x``."""
    return _elu(x, alpha=_number(alpha, "alpha", "elu"))


def gelu(x, approximate: str = "none") -> Tensor:
    """x Φ(x) with Φ the standard normal CDF (exact, erf form); ``approximate="tanh"`` uses
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))), as torch. Shape of ``x``.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([0.0, 1.0], requires_grad=True)
        >>> dg.gelu(x).sum().backward()
        >>> x.grad.round(6)  # Φ(x) + x φ(x)
        array([0.5     , 1.083315])
    """
    if approximate not in GELU_APPROXIMATIONS:
        raise ValueError(f"gelu(): approximate must be one of {GELU_APPROXIMATIONS}, got "
                         f"{approximate!r}")
    return _gelu(x, approximate=approximate)
