"""Regularisers of chapter 4: weight decay (eq. 4.1), the consistent Gaussian prior (eq. 4.11)
and tangent propagation (§4.5.2, road 2); beside them the L1 penalty λ Σ|w| (the lasso).

A regulariser is called on the model — and, for one that depends on the data such as
:class:`TangentProp`, on the batch's inputs — and returns its penalty Ω as a Tensor, which is
added to the error so that its gradient joins the backward pass; ``.penalty(model, inputs)``
gives the value as a float for reporting. ``fit`` adds ``batch_term(model, inputs, B/N)`` to
each minibatch's error: (B/N) Ω(w) for a penalty on the weights, Ω of the batch's own patterns
for a penalty summed over patterns, so an epoch adds Ω once either way.
"""

from __future__ import annotations

import abc

import numpy as np

from . import _state, ops
from . import _validate as check
from .autograd import grad
from .nn.linear import Linear
from .nn.module import Module
from .tensor import Tensor


class Regularizer(abc.ABC):
    """Base class: ``reg(model)`` → Ω(w) (a scalar Tensor); ``reg.penalty(model)`` → float.

    The ``inputs`` argument of ``__call__``, ``penalty`` and ``batch_term`` is the batch's
    inputs; a penalty on the weights alone ignores it.
    """

    @abc.abstractmethod
    def terms(self, model: Module) -> list:
        """``[(coefficient, parameter), ...]``: Ω(w) = ½ Σ coefficient · ‖parameter‖²."""

    def batch_term(self, model: Module, inputs, fraction: float) -> Tensor:
        """What a minibatch holding ``fraction`` = B/N of the patterns adds to its error."""
        omega = self(model, inputs)
        return omega if fraction == 1 else fraction * omega

    def __call__(self, model: Module, inputs=None) -> Tensor:
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

    def penalty(self, model: Module, inputs=None) -> float:
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


class L1(Regularizer):
    """Ω(w) = λ Σ_i |w_i| over all weights and biases, or weights only (the lasso penalty;
    TF Playground's "L1"). Equivalent to a zero-mean Laplace prior p(w) ∝ exp(−λ|w|), as
    weight decay is to a Gaussian one (Proposition 4.1).

    |w| has no derivative at 0; the gradient uses the subgradient λ sign(w) with sign(0) = 0,
    PyTorch's convention for ``torch.abs``: a weight that is exactly 0 gets no push. With
    gradient descent a weight therefore jumps across 0 rather than settling on it; a weight
    the data do not need ends oscillating within ηλ of 0.

    Example:
        >>> import deltagrad as dg
        >>> layer = dg.nn.Linear(2, 1); layer.weight.data[:] = [[1.0, -2.0]]
        >>> layer.bias.data[:] = 0.0
        >>> dg.regularizers.L1(0.1).penalty(layer)
        0.30000000000000004
    """

    def __init__(self, lam: float, include_biases: bool = True):
        self.lam = check.non_negative(lam, "lam", "L1")
        self.include_biases = bool(include_biases)

    def terms(self, model: Module) -> list:
        """No quadratic terms: Ω is λ Σ|w|, not ½ Σ α‖w‖² (see :meth:`parameters`)."""
        return []

    def parameters(self, model: Module) -> list:
        """The parameters Ω sums |w| over."""
        if self.include_biases:
            return list(model.parameters())
        return [layer.weight for _, layer in linear_layers(model)]

    def __call__(self, model: Module, inputs=None) -> Tensor:
        total = None
        if self.lam != 0:
            for p in self.parameters(model):
                term = ops.sum(ops.abs(p))
                total = term if total is None else total + term
        if total is None:
            dtype = next(iter(model.parameters())).dtype if model.parameters() else np.float64
            return Tensor._wrap(np.zeros((), dtype=dtype))
        return self.lam * total

    def penalty(self, model: Module, inputs=None) -> float:
        return float(self.lam * sum(float(np.abs(p.data).sum()) for p in self.parameters(model)))

    def __repr__(self) -> str:
        return f"L1(lam={self.lam}, include_biases={self.include_biases})"


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


TANGENTS = ("shift_x", "shift_y", "rotate", "scale")


def tangent_vectors(images: np.ndarray, transforms=("shift_x", "shift_y", "rotate")) -> list:
    """τ = ∂s(x, ξ)/∂ξ at ξ = 0 for each transform s of the images ``(N, C, H, W)``: the
    derivative of the image as it is moved right (``shift_x``), down (``shift_y``), rotated
    anticlockwise about its centre (``rotate``, per radian) or enlarged (``scale``).

    With image derivatives ∂I/∂r, ∂I/∂c by central differences (``numpy.gradient``) and
    x = c − c̄, y = r̄ − r about the centre: τ_shift_x = −∂I/∂c, τ_shift_y = −∂I/∂r,
    τ_rotate = y ∂I/∂c + x ∂I/∂r, τ_scale = −(x ∂I/∂c − y ∂I/∂r). Returns one array per
    transform, each shaped like ``images``.
    """
    d_row, d_col = np.gradient(images, axis=(2, 3))
    h, w = images.shape[2:]
    y = ((h - 1) / 2.0 - np.arange(h))[:, None]
    x = (np.arange(w) - (w - 1) / 2.0)[None, :]
    formulas = {"shift_x": lambda: -d_col, "shift_y": lambda: -d_row,
                "rotate": lambda: y * d_col + x * d_row,
                "scale": lambda: -(x * d_col - y * d_row)}
    return [formulas[name]() for name in transforms]


class TangentProp(Regularizer):
    """Tangent propagation (§4.5.2, road 2): Ω = ½ λ Σ_n Σ_t Σ_k (Σ_i J_nki τ_nti)², the
    squared change of every output y_k under each small transformation t of pattern n.

    J_nki = ∂y_nk/∂x_ni is never formed: J·τ is computed exactly by double backward through
    our autodiff (the transpose trick: v = Jᵀu for a dummy u by a backward pass that records
    its graph, then J·τ = ∂(v·τ)/∂u by a second one); the gradient of Ω with respect to the
    weights is then a third pass, the ordinary ``backward()``. The model must therefore be
    built from primitives that can be differentiated twice (``Linear``, the activations —
    not ``Conv2d``).

    Args:
        transforms: names from :data:`TANGENTS` (``"shift_x"``, ``"shift_y"``, ``"rotate"``,
            ``"scale"``); see :func:`tangent_vectors`.
        weight: λ ≥ 0.

    The inputs must be image batches ``(N, C, H, W)`` (put an ``nn.Flatten()`` before an MLP).
    Ω sums over patterns, so a minibatch adds its own patterns' terms.
    """

    def __init__(self, transforms=("shift_x", "shift_y", "rotate"), weight: float = 0.01):
        if isinstance(transforms, str):
            transforms = (transforms,)
        self.transforms = tuple(check.choice(t, TANGENTS, "transform", "TangentProp")
                                for t in transforms)
        if not self.transforms:
            raise ValueError("TangentProp: give at least one transform")
        self.weight = check.non_negative(weight, "weight", "TangentProp")

    def terms(self, model: Module) -> list:
        """No penalty on the weights themselves: Ω depends on them through J."""
        return []

    def _images(self, model: Module, inputs) -> np.ndarray:
        if inputs is None:
            raise ValueError("TangentProp: the penalty depends on the inputs; call it as "
                             "reg(model, inputs)")
        data = np.asarray(inputs.data if isinstance(inputs, Tensor) else inputs)
        if data.ndim != 4:
            raise ValueError(f"TangentProp: inputs must be image batches (N, C, H, W), got "
                             f"shape {data.shape}; put an nn.Flatten() before an MLP")
        dtype = model.parameters()[0].dtype if model.parameters() else np.float64
        return data.astype(dtype, copy=False)

    def directional_derivatives(self, model: Module, inputs) -> list:
        """J·τ for each transform: a list of ``(N, K)`` Tensors, differentiable with respect
        to the weights."""
        images = self._images(model, inputs)
        with _state.enable_grad():  # J·τ is made of gradients, even under no_grad
            x = Tensor(images, requires_grad=True)
            y = model(x)
            u = Tensor(np.zeros(y.shape, dtype=y.dtype), requires_grad=True)
            (v,) = grad(ops.sum(y * u), x, create_graph=True)       # v = Jᵀu, linear in u
            return [grad(ops.sum(v * tau), u, create_graph=True)[0]  # ∂(v·τ)/∂u = J·τ
                    for tau in tangent_vectors(images, self.transforms)]

    def __call__(self, model: Module, inputs=None) -> Tensor:
        recording = _state.is_grad_enabled()
        total = None
        for jt in self.directional_derivatives(model, inputs):
            jt = jt if recording else Tensor._wrap(jt.data)
            term = ops.sum(jt * jt)
            total = term if total is None else total + term
        return (0.5 * self.weight) * total

    def batch_term(self, model: Module, inputs, fraction: float) -> Tensor:
        return self(model, inputs)

    def penalty(self, model: Module, inputs=None) -> float:
        return float(self(model, inputs).item())

    def __repr__(self) -> str:
        return f"TangentProp(transforms={self.transforms!r}, weight={self.weight})"
