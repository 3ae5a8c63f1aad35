"""Optimizer base class and the first-order rules: SGD (eq. 2.20, 2.22), Adam and AdamW.

Weight decay, two ways (PyTorch's meanings). ``SGD(weight_decay=λ)`` and
``Adam(weight_decay=λ)`` add λw to the gradient: the gradient of eq. 4.1's penalty
Ẽ = E + (λ/2) wᵀw. Under SGD this *is* decay: w ← w − η(∇E + λw) = (1 − ηλ) w − η∇E.
Under Adam the λw term passes through Adam's per-weight scaling 1/(√v̂ + ε) like the rest of
the gradient, so a weight with large past gradients is hardly decayed and one with small
gradients strongly: eq. 4.1's penalty is still what is minimised, but the shrinking is no
longer uniform. ``AdamW`` decouples it (Loshchilov & Hutter): every step first shrinks every
weight by the same factor, w ← (1 − ηλ) w, then takes the plain Adam step on ∇E; that shrink is
not the gradient of any penalty that Adam follows, so AdamW with λ is not Adam on eq. 4.1.
"""

from __future__ import annotations

import abc

import numpy as np

from .. import _validate as check
from ..nn.module import Module
from ..tensor import Tensor


class Optimizer(abc.ABC):
    """Holds the parameters and their per-parameter state; ``step()`` applies the update rule."""

    def __init__(self, params):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Parameters "
                            "(e.g. model.parameters()), got a single Tensor")
        if isinstance(params, Module):
            raise TypeError(f"{type(self).__name__}: params must be the model's parameters "
                            f"(model.parameters()), got the {type(params).__name__} itself")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        seen = {}
        for k, p in enumerate(self.params):
            if not isinstance(p, Tensor) or not p.requires_grad:
                raise TypeError(f"{type(self).__name__}: parameter {k} is not a Tensor that "
                                f"requires grad (got {type(p).__name__}); pass "
                                "model.parameters()")
            if id(p) in seen:  # it would be updated twice per step
                raise ValueError(f"{type(self).__name__}: parameter {k} is parameter "
                                 f"{seen[id(p)]} again (a module listed twice?); each "
                                 "parameter may appear once")
            seen[id(p)] = k
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
               state: dict, weight_decay: float = 0.0) -> None:
    """In place: g ← g + λw (λ = ``weight_decay``, eq. 4.1's gradient); v ← μv + g;
    w ← w − η (g + μv if Nesterov else v). With μ = 0: w ← w − η g."""
    if weight_decay:
        g = g + weight_decay * w
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

    ``weight_decay=λ`` adds λw to every gradient: gradient descent on eq. 4.1's
    Ẽ = E + (λ/2) wᵀw, each step shrinking w by (1 − ηλ) (as ``torch.optim.SGD``; every
    parameter given is decayed, biases too — pass the biases to a second optimiser to keep
    them free, as Remark 4.4 advises).

    Example:
        >>> import deltagrad as dg
        >>> w = dg.nn.Parameter([1.0])
        >>> opt = dg.optim.SGD([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data
        array([0.8])
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0):
        super().__init__(params)
        self.lr = check.positive(lr, "lr", "SGD")
        self.momentum = check.real(momentum, "momentum", "SGD", low=0.0, high=1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.nesterov = check.boolean(nesterov, "nesterov", "SGD")
        self.weight_decay = check.non_negative(weight_decay, "weight_decay", "SGD")

    def step(self) -> None:
        if self.momentum or self.weight_decay:
            return super().step()
        lr = self.lr
        for p in self.params:  # plain gradient descent: the hot loop of on-line learning
            if p.grad is not None:
                w = p.data
                w -= lr * p.grad  # in place: the array itself, no re-assignment of .data

    def _update(self, p, g, state) -> None:
        sgd_update(p.data, g, self.lr, self.momentum, self.nesterov, state, self.weight_decay)

    def __repr__(self) -> str:
        decay = f", weight_decay={self.weight_decay}" if self.weight_decay else ""
        return f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}{decay})"


def adam_update(w: np.ndarray, g: np.ndarray, lr: float, beta1: float, beta2: float,
                eps: float, state: dict, weight_decay: float = 0.0) -> None:
    """In place: g ← g + λw (λ = ``weight_decay``, eq. 4.1's gradient), m ← β₁m + (1−β₁)g,
    v ← β₂v + (1−β₂)g², w ← w − η m̂ / (√v̂ + ε), with the bias corrections m̂ = m/(1−β₁ᵗ),
    v̂ = v/(1−β₂ᵗ) (Kingma & Ba, as PyTorch's Adam)."""
    if weight_decay:
        g = g + weight_decay * w
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
    """Adam with bias correction (the update of ``torch.optim.Adam``; see :func:`adam_update`).

    ``weight_decay=λ`` adds λw to the gradient (eq. 4.1's penalty, PyTorch's Adam), which Adam
    then rescales per weight; for decay that shrinks every weight alike use :class:`AdamW`
    (the module docstring says why the two differ).

    Example:
        >>> import deltagrad as dg
        >>> w = dg.nn.Parameter([1.0])
        >>> opt = dg.optim.Adam([w], lr=0.1)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data.round(6)   # the first step moves every weight by lr
        array([0.9])
    """

    default_decay = 0.0

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float | None = None):
        super().__init__(params)
        owner = type(self).__name__
        self.lr = check.positive(lr, "lr", owner)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{owner}: betas must be a pair (β₁, β₂), got {betas!r}")
        self.beta1 = check.real(betas[0], "betas[0]", owner, low=0.0, high=1.0)
        self.beta2 = check.real(betas[1], "betas[1]", owner, low=0.0, high=1.0)
        self.eps = check.positive(eps, "eps", owner)
        decay = self.default_decay if weight_decay is None else weight_decay
        self.weight_decay = check.non_negative(decay, "weight_decay", owner)

    def _update(self, p, g, state) -> None:
        adam_update(p.data, g, self.lr, self.beta1, self.beta2, self.eps, state,
                    self.weight_decay)

    def __repr__(self) -> str:
        decay = f", weight_decay={self.weight_decay}" if self.weight_decay else ""
        return (f"{type(self).__name__}(lr={self.lr}, betas=({self.beta1}, {self.beta2}), "
                f"eps={self.eps}{decay})")


def adamw_update(w: np.ndarray, g: np.ndarray, lr: float, beta1: float, beta2: float,
                 eps: float, weight_decay: float, state: dict) -> None:
    """In place: the decoupled decay w ← (1 − ηλ) w, then the Adam step of
    :func:`adam_update` on g alone (as ``torch.optim.AdamW``)."""
    if weight_decay:
        w *= 1.0 - lr * weight_decay
    adam_update(w, g, lr, beta1, beta2, eps, state)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter; ``torch.optim.AdamW``, whose
    default λ = 0.01 it shares): each step w ← (1 − ηλ) w, then Adam on ∇E (see
    :func:`adamw_update` and the module docstring for why this is not Adam on eq. 4.1).

    Example:
        >>> import deltagrad as dg
        >>> w = dg.nn.Parameter([1.0])
        >>> opt = dg.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> (w * w).sum().backward(); opt.step()
        >>> w.data.round(6)   # (1 − 0.1·0.5)·1 − 0.1
        array([0.85])
    """

    default_decay = 0.01

    def _update(self, p, g, state) -> None:
        adamw_update(p.data, g, self.lr, self.beta1, self.beta2, self.eps, self.weight_decay,
                     state)
