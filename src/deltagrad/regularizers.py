"""Regularisers of chapter 4: weight decay (eq. 4.1) and the consistent Gaussian prior (eq. 4.11).

A regulariser is called on the model and returns its penalty Ω(w) as a Tensor, which is added
to the error so that its gradient joins the backward pass; ``.penalty(model)`` gives the value
as a float for reporting.
"""

from __future__ import annotations

import abc

import numpy as np

from . import _validate as check
from . import ops
from .nn.linear import Linear
from .nn.module import Module
from .tensor import Tensor


class Regularizer(abc.ABC):
    """Base class: ``reg(model)`` → Ω(w) (a scalar Tensor); ``reg.penalty(model)`` → float."""

    @abc.abstractmethod
    def terms(self, model: Module) -> list:
        """``[(coefficient, parameter), ...]``: Ω(w) = ½ Σ coefficient · ‖parameter‖²."""

    def __call__(self, model: Module) -> Tensor:
        total = None
        for coefficient, p in self.terms(model):
            if coefficient == 0:
                continue
            flat = ops.reshape(p, shape=(-1,))
            term = (0.5 * coefficient) * ops.matmul(flat, flat)
            total = term if total is None else total + term
        if total is None:
            dtype = next(iter(model.parameters())).dtype if model.parameters() else np.float64
            return Tensor._wrap(np.zeros((), dtype=dtype))
        return total

    def penalty(self, model: Module) -> float:
        return float(sum(0.5 * c * float(np.vdot(p.data, p.data)) for c, p in self.terms(model)))


class WeightDecay(Regularizer):
    """Ω(w) = (λ/2) wᵀw over all weights and biases (eq. 4.1), or weights only.

    Equivalent to a zero-mean Gaussian prior of precision λ (Proposition 4.1). Not invariant
    under the linear rescalings of inputs and targets (Proposition 4.5).

    Example:
        >>> import deltagrad as dg
        >>> layer = dg.nn.Linear(2, 1); layer.weight.data[:] = [[1.0, 2.0]]
        >>> dg.regularizers.WeightDecay(0.1).penalty(layer)
        0.25
    """

    def __init__(self, lam: float, include_biases: bool = True):
        self.lam = check.non_negative(lam, "lam", "WeightDecay")
        self.include_biases = bool(include_biases)

    def terms(self, model: Module) -> list:
        if self.include_biases:
            return [(self.lam, p) for p in model.parameters()]
        return [(self.lam, layer.weight) for _, layer in linear_layers(model)]

    def __repr__(self) -> str:
        return f"WeightDecay(lam={self.lam}, include_biases={self.include_biases})"


def linear_layers(model: Module) -> list:
    """``[(name, Linear), ...]`` in definition order: the weight groups 𝒲_k of eq. 4.10."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, Linear)]


class ConsistentGaussianPrior(Regularizer):
    """Ω(w) = ½ Σ_k α_k ‖w‖²_k over each layer's weights, biases unpenalised (eq. 4.10–4.11).

    Invariant under x → a x + b and y → c y + d when the coefficients follow the weights:
    α₁ → a² α₁ for the first layer, α_L → α_L / c² for the (linear) output layer.

    Args:
        alphas: one precision per Linear layer (a list, in order), or a dict from layer name
            (as in ``named_modules()``, e.g. ``"linear1"``) to precision, naming every layer.
    """

    def __init__(self, alphas):
        if isinstance(alphas, dict):
            self.alphas = {str(k): check.non_negative(v, f"alphas[{k!r}]",
                                                      "ConsistentGaussianPrior")
                           for k, v in alphas.items()}
        else:
            try:
                alphas = list(alphas)
            except TypeError as err:
                raise TypeError("ConsistentGaussianPrior: alphas must be a list (one per layer) "
                                "or a dict by layer name") from err
            self.alphas = [check.non_negative(v, f"alphas[{i}]", "ConsistentGaussianPrior")
                           for i, v in enumerate(alphas)]

    def coefficients(self, model: Module) -> list:
        """``[(layer name, α_k), ...]`` for the model's Linear layers, checked against it."""
        layers = linear_layers(model)
        names = [name for name, _ in layers]
        if isinstance(self.alphas, dict):
            unknown = sorted(set(self.alphas) - set(names))
            missing = [n for n in names if n not in self.alphas]
            if unknown or missing:
                raise ValueError(f"ConsistentGaussianPrior: alphas must name every layer "
                                 f"{names}; unknown {unknown}, missing {missing}")
            return [(n, self.alphas[n]) for n in names]
        if len(self.alphas) != len(layers):
            raise ValueError(f"ConsistentGaussianPrior: {len(self.alphas)} alphas given but the "
                             f"model has {len(layers)} layers {names}")
        return list(zip(names, self.alphas))

    def terms(self, model: Module) -> list:
        layers = dict(linear_layers(model))
        return [(alpha, layers[name].weight) for name, alpha in self.coefficients(model)]

    def __repr__(self) -> str:
        return f"ConsistentGaussianPrior(alphas={self.alphas!r})"
