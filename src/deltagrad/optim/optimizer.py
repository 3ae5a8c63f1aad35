"""Optimizer base class and the first-order rules: SGD (eq. 2.20, 2.22) and Adam."""

from __future__ import annotations

import abc

import numpy as np

from .. import _validate as check
from ..tensor import Tensor


class Optimizer(abc.ABC):
    """Holds the parameters and their per-parameter state; ``step()`` applies the update rule."""

    def __init__(self, params):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Parameters "
                            "(e.g. model.parameters()), got a single Tensor")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for k, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {k} is not a Tensor that "
                                "requires grad")
        self.state = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget the gradients (``.grad = None``) before the next backward."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            if p.grad is not None:
                self._update(p, p.grad, state)

    @abc.abstractmethod
    def _update(self, p: Tensor, g: np.ndarray, state: dict) -> None:
        """Apply the update rule to one parameter, in place, with its ``state``."""


def sgd_update(w: np.ndarray, g: np.ndarray, lr: float, momentum: float, nesterov: bool,
               state: dict) -> None:
    """In place: v ← μv + g; w ← w − η (g + μv if Nesterov else v). With μ = 0: w ← w − η g."""
    if momentum == 0.0:
        w -= lr * g
        return
    v = state.get("velocity")
    if v is None:
        v = state["velocity"] = g.copy(order="K")
    else:
        v *= momentum
        v += g
    w -= lr * (g + momentum * v if nesterov else v)


class SGD(Optimizer):
    """Gradient descent w ← w − η ∇E: batch (eq. 2.20) when ∇E is over the whole training set,
    on-line (eq. 2.22) when over one pattern; optional (Nesterov) momentum as PyTorch's SGD.

    Example:
        >>> import deltagrad as dg
        >>> w = dg.nn.Parameter([1.0])
        >>> opt = dg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data
        array([0.8])
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(params)
        self.lr = check.positive(lr, "lr", "SGD")
        self.momentum = check.real(momentum, "momentum", "SGD", low=0.0, high=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = bool(nesterov)

    def step(self) -> None:
        if self.momentum:
            return super().step()
        lr = self.lr
        for p in self.params:  # plain gradient descent: the hot loop of on-line learning
            if p.grad is not None:
                w = p.data
                w -= lr * p.grad  # in place: the array itself, no re-assignment of .data

    def _update(self, p, g, state) -> None:
        sgd_update(p.data, g, self.lr, self.momentum, self.nesterov, state)

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov})"


def adam_update(w: np.ndarray, g: np.ndarray, lr: float, beta1: float, beta2: float,
                eps: float, state: dict) -> None:
    """In place: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − η m̂ / (√v̂ + ε), with the
    bias corrections m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) (Kingma & Ba, as PyTorch's Adam)."""
    if "m" not in state:
        state["m"] = np.zeros_like(w)
        state["v"] = np.zeros_like(w)
        state["t"] = 0
    state["t"] += 1
    m, v, t = state["m"], state["v"], state["t"]
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * (g * g)
    step_size = lr / (1 - beta1 ** t)
    denominator = np.sqrt(v / (1 - beta2 ** t))
    denominator += eps
    w -= step_size * (m / denominator)


class Adam(Optimizer):
    """Adam with bias correction (same update as ``torch.optim.Adam`` without weight decay)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params)
        self.lr = check.positive(lr, "lr", "Adam")
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (β₁, β₂), got {betas!r}")
        self.beta1 = check.real(betas[0], "betas[0]", "Adam", low=0.0, high=1.0)
        self.beta2 = check.real(betas[1], "betas[1]", "Adam", low=0.0, high=1.0)
        self.eps = check.positive(eps, "eps", "Adam")

    def _update(self, p, g, state) -> None:
        adam_update(p.data, g, self.lr, self.beta1, self.beta2, self.eps, state)

    def __repr__(self) -> str:
        return f"Adam(lr={self.lr}, betas=({self.beta1}, {self.beta2}), eps={self.eps})"
