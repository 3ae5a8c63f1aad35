"""Check backpropagated gradients against central differences."""

from __future__ import annotations

import numpy as np

from . import _state
from .autograd import grad as _grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when a backpropagated gradient disagrees with central differences."""


def _numeric_jacobian(f, inputs, k: int, eps: float, out_size: int) -> np.ndarray:
    """J[o, i] = (f(x + ε e_i)_o − f(x − ε e_i)_o) / 2ε for input ``k``."""
    if not inputs[k].data.flags.c_contiguous:
        inputs[k].data = np.ascontiguousarray(inputs[k].data)
    x = inputs[k].data
    jac = np.zeros((out_size, x.size))
    flat = x.reshape(-1)  # a view: we perturb the input in place and restore it
    with _state.no_grad():
        for i in range(x.size):
            original = flat[i]
            flat[i] = original + eps
            plus = np.array(_as_output(f(*inputs)).data, dtype=np.float64).reshape(-1)
            flat[i] = original - eps
            minus = np.array(_as_output(f(*inputs)).data, dtype=np.float64).reshape(-1)
            flat[i] = original
            jac[:, i] = (plus - minus) / (2 * eps)
    return jac


def _backprop_jacobian(out: Tensor, inputs, out_size: int) -> list:
    """Row o of each input's Jacobian is the gradient of output element o."""
    jacs = [np.zeros((out_size, t.size)) for t in inputs]
    for o in range(out_size):
        seed = np.zeros(out_size, dtype=out.dtype)
        seed[o] = 1.0
        grads = _grad(out, inputs, grad_outputs=seed.reshape(out.shape), retain_graph=True,
                      allow_unused=True)
        for jac, g in zip(jacs, grads):
            if g is not None:
                jac[o] = g.data.reshape(-1)
    return jacs


def _as_output(value) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(f"gradcheck(): f must return a Tensor, got {type(value).__name__}")
    return value


def gradcheck(f, *inputs, eps: float = 1e-6, atol: float = 1e-8, rtol: float = 1e-6) -> bool:
    """Compare ``backward()`` with central differences for every input that requires grad.

    Every output element and every input element is checked:
    ``|ours − numeric| ≤ atol + rtol·|numeric|``.

    Args:
        f: a function of the input tensors returning a Tensor (any shape).
        inputs: float64 Tensors; those with ``requires_grad=True`` are checked.

    Returns:
        True, or raises :class:`GradcheckError` naming the worst entry, ours versus numeric.

    Example:
        >>> import deltagrad as dg
        >>> x = dg.tensor([0.3, -1.2], requires_grad=True)
        >>> dg.gradcheck(lambda x: dg.tanh(x) * x, x)
        True
    """
    if not all(isinstance(t, Tensor) for t in inputs):
        raise TypeError("gradcheck(): every input must be a Tensor")
    checked = [k for k, t in enumerate(inputs) if t.requires_grad]
    if not checked:
        raise ValueError("gradcheck(): no input has requires_grad=True")
    for k in checked:
        if inputs[k].dtype != np.float64:
            raise TypeError(f"gradcheck(): input {k} has dtype {inputs[k].dtype}; central "
                            "differences need float64")
    out = _as_output(f(*inputs))
    if not out.requires_grad:
        raise ValueError("gradcheck(): the output of f does not depend on any checked input")
    out_size = out.size
    ours = _backprop_jacobian(out, [inputs[k] for k in checked], out_size)
    for jac, k in zip(ours, checked):
        numeric = _numeric_jacobian(f, inputs, k, eps, out_size)
        excess = np.abs(jac - numeric) - (atol + rtol * np.abs(numeric))
        if np.any(excess > 0) or not np.all(np.isfinite(jac)):
            o, i = np.unravel_index(np.nanargmax(np.where(np.isfinite(jac), excess, np.inf)),
                                    excess.shape)
            element = np.unravel_index(i, inputs[k].shape) if inputs[k].ndim else ()
            element = [int(e) for e in element]
            raise GradcheckError(
                f"gradcheck: d output[{int(o)}] / d input {k}{element}: backward gave "
                f"{float(jac[o, i])!r}, central differences gave {float(numeric[o, i])!r} "
                f"(atol={atol}, rtol={rtol})")
    return True
