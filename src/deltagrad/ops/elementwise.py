"""Elementwise primitives: arithmetic and the notes' activation functions (eq. 1.3, 5.2)."""

from __future__ import annotations

import numpy as np

from .base import Primitive, polymorphic


def _pow_vjp_exponent(g, ans, x, p):
    positive = x > 0
    return _where(positive, g * ans * _log(_where(positive, x, 1.0)), 0.0)


add = Primitive("add", np.add, (
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: g,
))
sub = Primitive("sub", np.subtract, (
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: -g,
))
mul = Primitive("mul", np.multiply, (
    lambda g, ans, x, y: g * y,
    lambda g, ans, x, y: g * x,
))
div = Primitive("div", np.divide, (
    lambda g, ans, x, y: g / y,
    lambda g, ans, x, y: -g * ans / y,
))
neg = Primitive("neg", np.negative, (
    lambda g, ans, x: -g,
))
pow = Primitive("pow", np.power, (  # noqa: A001  (the name users expect: dg.pow)
    lambda g, ans, x, p: g * p * x ** (p - 1),
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


def _expit(x):
    """scipy's logistic σ(x): stable, no overflow at ±1000 (scipy.special is imported on
    first use, since it costs more to import than NumPy)."""
    from scipy.special import expit

    return expit(x)


sigmoid = Primitive("sigmoid", _expit, (
    lambda g, ans, x: g * ans * (1 - ans),  # σ' = σ(1 − σ)
))
relu = Primitive("relu", lambda x: np.maximum(x, 0), (
    lambda g, ans, x: g * (x > 0),  # derivative taken as 0 at 0
))
step = Primitive("step", lambda x: (x >= 0).astype(x.dtype), (  # f(0) = 1 (eq. 5.2)
    lambda g, ans, x: g * 0,  # flat everywhere it is differentiable
))
where = Primitive("where", np.where, (
    None,
    lambda g, ans, c, x, y: _where(c, g, 0.0),
    lambda g, ans, c, x, y: _where(c, 0.0, g),
))
astype = Primitive("astype", lambda x, dtype: x.astype(dtype), (
    lambda g, ans, x, dtype: g.astype(x.dtype),
))

# the same primitives for use inside VJPs (see base.polymorphic)
_where, _log = polymorphic(where), polymorphic(log)
