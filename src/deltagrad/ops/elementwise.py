"""Elementwise primitives: arithmetic, abs/sign/sqrt/sin/cos/erf, maximum/minimum, clip, and the
notes' activation functions (eq. 1.3, 5.2)."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from .base import EXACT, KEEP, Primitive, polymorphic, values


def _pow_vjp_base(g, ans, x, p):
    """∂(x^p)/∂x = p x^(p−1), taken as 0 where x = 0 and p = 0 (x^0 = 1: no 0·∞).

    Only that point reads p = 1 inside the power (no 0 · ∞ there, nor in the derivatives of
    this VJP); elsewhere p = 0 is computed, so that the mixed derivative ∂²(x^p)/∂p∂x =
    x^(p−1)(1 + p ln x) is 1/x at p = 0, x ≠ 0 (PyTorch's and HIPS autograd's masks on p = 0
    alone give 0 and x there)."""
    both_zero = (values(p) == 0) & (values(x) == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return _where(both_zero, 0.0, g * p * x ** (_where(both_zero, 1.0, p) - 1))


def _pow_vjp_exponent(g, ans, x, p):
    """∂(x^p)/∂p = x^p ln x, as PyTorch: 0 where x = 0 and p ≥ 0; NaN for x < 0 and −∞ for
    x = 0, p < 0 (where x^p itself is NaN or infinite, or not differentiable in p).

    At x = 0, p ≥ 0 the logarithm reads 1 in place of x (HIPS autograd's ``replace_zero``):
    masking ``ans · ln 0`` after computing it would leave 0 · (−∞) = NaN in the derivatives
    of this VJP (``create_graph=True``), where ``where`` sends a zero gradient into the
    unused branch; ln 1 = 0 gives the 0 directly, and every derivative through it is finite."""
    zero_base = (values(x) == 0) & (values(p) >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return g * ans * _log(_where(zero_base, 1.0, x))


def _maximum_vjp(i: int):
    """Ties split the gradient equally between the two arguments (as torch.maximum)."""
    def vjp(g, ans, x, y):
        mine, other = (values(x), values(y)) if i == 0 else (values(y), values(x))
        share = np.where(mine == other, 0.5, (mine == values(ans)).astype(np.float64))
        return g * share.astype(values(ans).dtype, copy=False)
    return vjp


def _clip_forward(x, low=None, high=None):
    return np.clip(x, low, high)


def _clip_vjp(g, ans, x, low=None, high=None):
    """1 inside [low, high], boundaries included (as torch.clamp), 0 outside."""
    inside = np.ones(np.shape(values(x)), dtype=bool)
    if low is not None:
        inside &= values(x) >= low
    if high is not None:
        inside &= values(x) <= high
    return _where(inside, g, 0.0)


add = Primitive("add", np.add, (
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: g,
), integers=EXACT)
sub = Primitive("sub", np.subtract, (
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: -g,
), integers=EXACT)
mul = Primitive("mul", np.multiply, (
    lambda g, ans, x, y: g * y,
    lambda g, ans, x, y: g * x,
), integers=EXACT)
div = Primitive("div", np.divide, (
    lambda g, ans, x, y: g / y,
    lambda g, ans, x, y: -g * ans / y,
))
neg = Primitive("neg", np.negative, (
    lambda g, ans, x: -g,
), integers=EXACT)
pow = Primitive("pow", np.power, (  # noqa: A001  (the name users expect: dg.pow)
    _pow_vjp_base,
    _pow_vjp_exponent,
))
exp = Primitive("exp", np.exp, (
    lambda g, ans, x: g * ans,
))
log = Primitive("log", np.log, (
    lambda g, ans, x: g / x,
))
tanh = Primitive("tanh", np.tanh, (
    lambda g, ans, x: g * (1 - ans * ans),  # tanh' = 1 − z² (eq. 3.3)
))


def _expit(x, out=None):
    """scipy's logistic σ(x): stable, no overflow at ±1000 (scipy.special is imported on
    first use, since it costs more to import than NumPy)."""
    global _expit_ufunc
    if _expit_ufunc is None:
        from scipy.special import expit as _expit_ufunc
    return _expit_ufunc(x, out=out)


_expit_ufunc = None  # scipy.special.expit once imported


def _erf_forward(x):
    """scipy's error function (imported on first use, as :func:`_expit`)."""
    from scipy.special import erf

    return erf(x)


sigmoid = Primitive("sigmoid", _expit, (
    lambda g, ans, x: g * ans * (1 - ans),  # σ' = σ(1 − σ)
))
relu = Primitive("relu", lambda x: np.maximum(x, 0), (
    lambda g, ans, x: g * (x > 0),  # derivative taken as 0 at 0
), integers=KEEP)
step = Primitive("step", lambda x: (x >= 0).astype(x.dtype), (  # f(0) = 1 (eq. 5.2)
    lambda g, ans, x: g * 0,  # flat everywhere it is differentiable
), integers=KEEP)
_where_primitive = Primitive("where", np.where, (
    None,  # the condition is boolean: no gradient
    lambda g, ans, c, x, y: _where(c, g, 0.0),
    lambda g, ans, c, x, y: _where(c, 0.0, g),
), integers=KEEP)
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), (
    lambda g, ans, x, dtype: g.astype(x.dtype),
), integers=KEEP)
abs = Primitive("abs", np.abs, (  # noqa: A001
    lambda g, ans, x: g * np.sign(values(x)),  # derivative 0 at 0, as torch
), integers=EXACT)
sign = Primitive("sign", np.sign, (
    lambda g, ans, x: g * 0,  # flat everywhere it is differentiable
), integers=EXACT)
sqrt = Primitive("sqrt", np.sqrt, (
    lambda g, ans, x: g / (2 * ans),
))
sin = Primitive("sin", np.sin, (
    lambda g, ans, x: g * _cos(x),
))
cos = Primitive("cos", np.cos, (
    lambda g, ans, x: -g * _sin(x),
))
erf = Primitive("erf", _erf_forward, (  # erf'(x) = 2/√π e^(−x²); gelu's VJP needs it
    lambda g, ans, x: g * (2 / np.sqrt(np.pi)) * _exp(-x * x),
))
maximum = Primitive("maximum", np.maximum, (_maximum_vjp(0), _maximum_vjp(1)), integers=KEEP)
minimum = Primitive("minimum", np.minimum, (_maximum_vjp(0), _maximum_vjp(1)), integers=KEEP)
_clip = Primitive("clip", _clip_forward, (_clip_vjp,), integers=EXACT)


def where(condition, x, y) -> Tensor:
    """``x`` where ``condition`` holds, else ``y`` (as ``np.where``; all three broadcast).

    The condition carries no gradient; ``x`` and ``y`` get ``g`` where they were chosen.
    Arguments may be given by keyword: ``where(condition=c, x=a, y=b)``.
    """
    return _where_primitive(condition, x, y)


def clip(x, min=None, max=None) -> Tensor:  # noqa: A002  (torch.clamp's names)
    """``x`` limited to ``[min, max]`` (either may be None). Shape of ``x``.

    The derivative is 1 inside the interval, boundaries included (as ``torch.clamp``), and 0
    outside.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([-2.0, 0.5, 1.0, 3.0], requires_grad=True)
        >>> dg.clip(x, min=-1.0, max=1.0).sum().backward()
        >>> x.grad
        array([0., 1., 1., 0.])
    """
    for name, bound in (("min", min), ("max", max)):
        if bound is not None and not isinstance(bound, (int, float, np.integer, np.floating)):
            raise TypeError(f"clip(): {name} must be a number or None, got "
                            f"{type(bound).__name__}")
    if min is None and max is None:
        raise ValueError("clip(): give min, max or both")
    if min is not None and max is not None and min > max:
        raise ValueError(f"clip(): min={min} is larger than max={max}")
    return _clip(x, low=min, high=max)


# the same primitives for use inside VJPs (see base.polymorphic)
_where, _log, _exp = polymorphic(_where_primitive), polymorphic(log), polymorphic(exp)
_sin, _cos = polymorphic(sin), polymorphic(cos)
