"""Activation functions as modules (eq. 1.3, 2.8, 5.2), and softplus, leaky ReLU, ELU, GELU and
SiLU beyond the notes; the functions themselves live in ops.

The output activations record the pre-activation ``a`` they were given, so that an error
function can use the stable fused form of its canonical pair (eq. 3.9).
"""

from __future__ import annotations

from .. import ops
from ..tensor import Tensor
from .module import Module, layer_input
from .registry import NoArguments, savable


def _record(y: Tensor, name: str, a: Tensor) -> Tensor:
    y._activation = (name, a)
    return y


def identity(a) -> Tensor:
    """y = a (regression output, Remark 2.4); recorded as an identity output, so that an error
    function can refuse a pair it is undefined on (``losses.pairing``)."""
    a = a if isinstance(a, Tensor) else Tensor(a)
    if a._activation is None:
        a._activation = ("identity", None)  # y is a itself: nothing to keep for a fused form
    return a


def sigmoid(a) -> Tensor:
    """Logistic sigmoid σ(a) = 1 / (1 + e^−a) (eq. 2.8); stable at ±1000."""
    return _record(ops.sigmoid(a), "sigmoid", a)


def tanh(a) -> Tensor:
    """Hyperbolic tangent; derivative 1 − tanh²(a)."""
    return _record(ops.tanh(a), "tanh", a)


def relu(a) -> Tensor:
    """max(a, 0); derivative 1 for a > 0 and 0 for a ≤ 0."""
    return _record(ops.relu(a), "relu", a)


def step(a) -> Tensor:
    """Heaviside step f(a) = 1 if a ≥ 0 else 0 (eq. 5.2); derivative 0."""
    return _record(ops.step(a), "step", a)


def softplus(a, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """ln(1 + e^(βa)) / β (linear where βa > threshold); derivative σ(βa)."""
    return _record(ops.softplus(a, beta=beta, threshold=threshold), "softplus", a)


def leaky_relu(a, negative_slope: float = 0.01) -> Tensor:
    """a for a > 0, ``negative_slope``·a otherwise."""
    return _record(ops.leaky_relu(a, negative_slope=negative_slope), "leaky_relu", a)


def elu(a, alpha: float = 1.0) -> Tensor:
    """a for a > 0, α(e^a − 1) otherwise."""
    return _record(ops.elu(a, alpha=alpha), "elu", a)


def gelu(a, approximate: str = "none") -> Tensor:
    """a Φ(a) (exact erf form; ``approximate="tanh"`` for the tanh form, as torch)."""
    return _record(ops.gelu(a, approximate=approximate), "gelu", a)


def silu(a) -> Tensor:
    """a σ(a) (also called swish); derivative σ(a)(1 + a(1 − σ(a)))."""
    return _record(ops.silu(a), "silu", a)


def softmax(a, axis: int = -1) -> Tensor:
    """y_k = exp(a_k) / Σ_j exp(a_j) over ``axis``; stable at ±1000."""
    y = ops.softmax(a, axis=axis)
    if axis == -1 or (isinstance(a, Tensor) and axis == a.ndim - 1):
        _record(y, "softmax", a)
    return y


class _Activation(NoArguments, Module):
    function = staticmethod(identity)
    name = "identity"

    def forward(self, a):
        return self.function(layer_input(type(self).__name__, a))


@savable()
class Identity(_Activation):
    """y = a."""


@savable()
class Sigmoid(_Activation):
    """Logistic sigmoid, see :func:`sigmoid`."""
    function = staticmethod(sigmoid)
    name = "sigmoid"


@savable()
class Tanh(_Activation):
    """Hyperbolic tangent, see :func:`tanh`."""
    function = staticmethod(tanh)
    name = "tanh"


@savable()
class ReLU(_Activation):
    """Rectified linear unit, see :func:`relu`."""
    function = staticmethod(relu)
    name = "relu"


@savable()
class Step(_Activation):
    """Heaviside step of the perceptron (eq. 5.2), see :func:`step`."""
    function = staticmethod(step)
    name = "step"


class _Parametrised(_Activation):
    """An activation with hyperparameters: ``defaults`` names them, in order, with their
    defaults; they are stored on the module and passed to ``function`` by keyword."""

    defaults: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__()
        name = type(self).__name__
        if len(args) > len(self.defaults):
            raise TypeError(f"{name}() takes at most {len(self.defaults)} arguments "
                            f"({', '.join(self.defaults)}), got {len(args)}")
        unknown = sorted(set(kwargs) - set(self.defaults))
        if unknown:
            raise TypeError(f"{name}() got unknown arguments {unknown}; expected "
                            f"{list(self.defaults)}")
        for key, value in {**self.defaults, **dict(zip(self.defaults, args)), **kwargs}.items():
            setattr(self, key, value)

    def forward(self, a):
        return self.function(a, **{key: getattr(self, key) for key in self.defaults})

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={getattr(self, key)!r}" for key in self.defaults)

    def config(self) -> dict:
        return {key: getattr(self, key) for key in self.defaults}

    @classmethod
    def from_config(cls, spec):
        return cls(**{key: spec.get(key, type(default)) for key, default in cls.defaults.items()})


@savable()
class Softplus(_Parametrised):
    """Softplus ln(1 + e^(βa)) / β, see :func:`softplus`."""
    function = staticmethod(softplus)
    name = "softplus"
    defaults = {"beta": 1.0, "threshold": 20.0}


@savable()
class LeakyReLU(_Parametrised):
    """Leaky rectified linear unit, see :func:`leaky_relu`."""
    function = staticmethod(leaky_relu)
    name = "leaky_relu"
    defaults = {"negative_slope": 0.01}


@savable()
class ELU(_Parametrised):
    """Exponential linear unit, see :func:`elu`."""
    function = staticmethod(elu)
    name = "elu"
    defaults = {"alpha": 1.0}


@savable()
class GELU(_Parametrised):
    """Gaussian error linear unit, see :func:`gelu`."""
    function = staticmethod(gelu)
    name = "gelu"
    defaults = {"approximate": "none"}


@savable()
class SiLU(_Activation):
    """Sigmoid-weighted linear unit a σ(a), see :func:`silu`."""
    function = staticmethod(silu)
    name = "silu"


@savable()
class Softmax(Module):
    """Softmax over ``axis`` (the multiclass output of §1.1.1)."""

    function = staticmethod(softmax)  # over the last axis
    name = "softmax"

    def __init__(self, axis: int = -1):
        super().__init__()
        self.axis = axis

    def forward(self, a):
        return softmax(a, axis=self.axis)

    def extra_repr(self) -> str:
        return "" if self.axis == -1 else f"axis={self.axis}"

    def config(self) -> dict:
        return {"axis": self.axis}

    @classmethod
    def from_config(cls, spec):
        return cls(axis=spec.get("axis", int, lambda v: -8 <= v <= 8, default=-1))


ACTIVATIONS = {"identity": Identity, "linear": Identity, "sigmoid": Sigmoid,
               "logistic": Sigmoid, "tanh": Tanh, "relu": ReLU, "softmax": Softmax, "step": Step,
               "softplus": Softplus, "leaky_relu": LeakyReLU, "elu": ELU, "gelu": GELU,
               "silu": SiLU}


def activation(name: str) -> Module:
    """The activation module called ``name`` (``"tanh"``, ``"sigmoid"``, ``"relu"``, ...)."""
    if not isinstance(name, str) or name.lower() not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(ACTIVATIONS)}")
    return ACTIVATIONS[name.lower()]()
