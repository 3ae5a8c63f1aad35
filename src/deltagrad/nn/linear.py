"""Linear: the layer a_j = Σ_i w_ji z_i + w_j0 (eq. 1.2, 1.4)."""

from __future__ import annotations

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..tensor import Tensor
from .module import Module, Parameter, layer_input
from .registry import positive, savable

INITS = ("glorot", "he")


@savable()
class Linear(Module):
    """A fully connected layer: ``a = x @ weight.T + bias``.

    Args:
        in_features: D, the number of inputs z_i.
        out_features: M, the number of units a_j.
        bias: whether to learn the biases w_j0.
        rng: seed or ``numpy.random.Generator`` for the initial weights.
        dtype: ``"float64"`` (default) or ``"float32"``.
        init: ``"glorot"`` (uniform, for tanh/sigmoid) or ``"he"`` (uniform, for ReLU).

    Shape:
        input ``(N, D)`` or ``(D,)`` (any leading dimensions); output ``(N, M)``.
        ``weight`` is ``(M, D)`` so that ``weight.data[j, i]`` is the notes' w_ji;
        ``bias`` is ``(M,)``, the w_j0.

    Example:
        >>> import deltagrad as dg
        >>> layer = dg.nn.Linear(3, 2, rng=0)
        >>> layer(dg.tensor([[1.0, 2.0, 3.0]])).shape
        (1, 2)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None,
                 dtype=None, init: str = "glorot"):
        super().__init__()
        self.in_features = check.positive_int(in_features, "in_features", "Linear")
        self.out_features = check.positive_int(out_features, "out_features", "Linear")
        self.init = check.choice(init, INITS, "init", "Linear")
        dtype = check.float_dtype(dtype, "Linear")
        self.weight = Parameter(np.zeros((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        """Uniform(−r, r) weights with r = √(6/(D+M)) (Glorot) or √(6/D) (He); zero biases."""
        rng = _state.get_rng(rng, "Linear")
        fan_in, fan_out = self.in_features, self.out_features
        glorot = self.init == "glorot"
        limit = np.sqrt(6.0 / (fan_in + fan_out)) if glorot else np.sqrt(6.0 / fan_in)
        # stored column-major: weight.T is then C-contiguous and the forward product x @ W.T
        # runs at full BLAS speed (a transposed operand costs up to 2× on small and float64
        # GEMMs); indexing is unchanged, weight.data[j, i] is w_ji
        values = rng.uniform(-limit, limit, size=self.weight.shape).astype(self.weight.dtype)
        self.weight.data = np.asfortranarray(values)
        if self.bias is not None:
            self.bias.data = np.zeros_like(self.bias.data)

    def forward(self, x) -> Tensor:
        x = self.checked_input(x)
        if self.bias is None:
            return ops.linear(x, self.weight)
        return ops.linear(x, self.weight, self.bias)

    def checked_input(self, x) -> Tensor:
        """``x`` as a Tensor of the layer's dtype with ``in_features`` columns, or a clear
        error naming the layer (a same-dtype array of the right width passes straight)."""
        data = x.data if type(x) is Tensor else x
        if type(data) is np.ndarray and data.dtype == self.weight.data.dtype and data.ndim \
                and data.shape[-1] == self.in_features:
            return x if type(x) is Tensor else Tensor._wrap(data)
        return _check_input(self, x)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")

    def config(self) -> dict:
        return {"in_features": self.in_features, "out_features": self.out_features,
                "bias": self.bias is not None, "init": self.init,
                "dtype": str(self.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        n_in = spec.get("in_features", int, positive)
        n_out = spec.get("out_features", int, positive)
        bias = spec.get("bias", bool)
        spec.reserve(n_in * n_out + (n_out if bias else 0))
        return cls(n_in, n_out, bias=bias, init=spec.get("init", str, INITS.__contains__),
                   dtype=spec.dtype(), rng=0)


def _check_input(layer: Linear, x) -> Tensor:
    """Refuse inputs with the wrong width or dtype, naming the layer."""
    name = f"Linear({layer.in_features}, {layer.out_features})"
    dtype = layer.weight.dtype
    x = layer_input(name, x, dtype)
    if x.ndim == 0 or x.shape[-1] != layer.in_features:
        raise ValueError(f"{name}: expected {layer.in_features} input features, "
                         f"got shape {x.shape}")
    return x
