"""The weight transforms of Propositions 4.2–4.3: an equivalent network for rescaled data.

If the inputs are rescaled x̃ = a x + b, the first layer's weights w̃_ji = w_ji / a_i and biases
w̃_j0 = w_j0 − Σ_i w_ji b_i / a_i leave every hidden activation unchanged (eq. 4.5–4.6). If the
targets are rescaled ỹ = c y + d, the output layer's w̃_kj = c_k w_kj and w̃_k0 = c_k w_k0 + d_k
produce exactly the rescaled outputs (eq. 4.8–4.9).
"""

from __future__ import annotations

import copy

import numpy as np

from ..nn.activation import Identity
from ..nn.linear import Linear
from ..nn.module import Module


def _linear_layers(model: Module) -> list:
    layers = [m for m in model.modules() if isinstance(m, Linear)]
    if not layers:
        raise ValueError(f"{type(model).__name__} has no Linear layer to transform")
    return layers


def _per_unit(name: str, value, size: int, allow_zero: bool) -> np.ndarray:
    array = np.broadcast_to(np.asarray(value, dtype=np.float64), (size,))
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if not allow_zero and np.any(array == 0):
        raise ValueError(f"{name} must be non-zero (the rescaling must be invertible)")
    return array


def rescale_inputs(model: Module, a, b) -> Module:
    """The network for inputs x̃ = a x + b that computes exactly what ``model`` computes on x
    (eq. 4.5–4.6). ``a``, ``b``: scalars or one value per input. Returns a new model."""
    new = copy.deepcopy(model)
    first = _linear_layers(new)[0]
    a = _per_unit("rescale_inputs: a", a, first.in_features, allow_zero=False)
    b = _per_unit("rescale_inputs: b", b, first.in_features, allow_zero=True)
    W = first.weight.data.astype(np.float64)
    if first.bias is None and np.any(b != 0):
        raise ValueError("rescale_inputs: a shift b ≠ 0 needs a first layer with biases")
    if first.bias is not None:
        first.bias.data = (first.bias.data - W @ (b / a)).astype(first.bias.dtype)
    first.weight.data[...] = W / a
    return new


def rescale_outputs(model: Module, c, d) -> Module:
    """The network whose outputs are ỹ = c y + d (eq. 4.8–4.9); needs a linear output layer
    (identity output activation). ``c``, ``d``: scalars or one value per output."""
    new = copy.deepcopy(model)
    last = _linear_layers(new)[-1]
    modules = list(new.modules())
    after = modules[modules.index(last) + 1:]
    if any(not isinstance(m, (Identity, Linear)) for m in after if not list(m.children())):
        raise ValueError("rescale_outputs: the output activation must be the identity "
                         "(eq. 4.3); a nonlinear output cannot be rescaled by its weights")
    c = _per_unit("rescale_outputs: c", c, last.out_features, allow_zero=False)
    d = _per_unit("rescale_outputs: d", d, last.out_features, allow_zero=True)
    if last.bias is None and np.any(d != 0):
        raise ValueError("rescale_outputs: a shift d ≠ 0 needs an output layer with biases")
    last.weight.data[...] = last.weight.data * c[:, None]
    if last.bias is not None:
        last.bias.data = (c * last.bias.data + d).astype(last.bias.dtype)
    return new
