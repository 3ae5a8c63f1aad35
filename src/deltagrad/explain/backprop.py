"""The backpropagation tracer: every a, z, y, E, δ, gradient and update of a chain of Linear
layers, shown the way §2.1.3 and §3.1–3.2 show them.

The numbers come from the engine, not from a second implementation: the forward pass is the
model's own, the δ's are the retained gradients of the pre-activations (eq. 3.7), the
gradients are the parameters' ``.grad``; h'(a) is the activation primitive's VJP and
Σ_k w_kj δ_k the ``linear`` primitive's VJP, exactly as the backward pass applies them.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .. import losses as _losses
from .. import ops
from ..nn.activation import ACTIVATIONS
from ..nn.linear import Linear
from ..nn.module import Module
from ..tensor import Tensor
from .solution import Line, Solution
from .schema import numbers_of

_ACTIVATION_CLASSES = set(ACTIVATIONS.values())
DERIVATIVE = {"identity": "1", "sigmoid": "z(1 − z)", "tanh": "1 − z²",
              "relu": "1 if a > 0 else 0", "step": "0", "softplus": "σ(a)",
              "leaky_relu": "1 if a > 0 else 0.01", "elu": "1 if a > 0 else z + 1",
              "gelu": "Φ(a) + a φ(a)", "silu": "σ(a)(1 + a(1 − σ(a)))"}
CANONICAL = _losses.CANONICAL_OUTPUT  # the one table of canonical pairs (eq. 3.9)
ERROR_TEXT = {"sum_of_squares": "½ Σ_k (y_k − t_k)² (eq. 2.5)",
              "binary_cross_entropy": "−Σ_k {t_k ln y_k + (1 − t_k) ln(1 − y_k)} (eq. 2.10)",
              "cross_entropy": "−Σ_k t_k ln y_k (eq. 9.2)"}
SUPPORTED = "a chain of Linear layers, each followed by identity, sigmoid, tanh, relu or step " \
            "(softmax only at the output)"


def layers_of(model: Module) -> list:
    """``[(Linear, activation name), ...]`` or a ValueError naming what is supported.
    A Linear without a following activation has the identity."""
    modules = list(model.children()) if list(model.children()) else [model]
    pairs, i = [], 0
    while i < len(modules):
        module = modules[i]
        if not isinstance(module, Linear):
            raise ValueError(f"explain: cannot show {type(module).__name__} at position {i}; "
                             f"the tracer shows {SUPPORTED}")
        name = "identity"
        if i + 1 < len(modules) and not isinstance(modules[i + 1], Linear):
            act = modules[i + 1]
            if type(act) not in _ACTIVATION_CLASSES:
                raise ValueError(f"explain: cannot show {type(act).__name__} at position "
                                 f"{i + 1}; the tracer shows {SUPPORTED}")
            name = act.name
            defaults = getattr(act, "defaults", {})  # h' is shown with the default parameters
            if any(getattr(act, key) != value for key, value in defaults.items()):
                raise ValueError(f"explain: cannot show {act!r} at position {i + 1}; the "
                                 f"tracer shows {name} with its default parameters only")
            i += 1
        pairs.append((module, name))
        i += 1
    for l, (_, name) in enumerate(pairs[:-1], start=1):
        if name == "softmax":
            raise ValueError(f"explain: softmax in hidden layer {l}; the tracer shows {SUPPORTED}")
    return pairs


def _derivative(name: str, a: np.ndarray, z: np.ndarray) -> np.ndarray:
    """h'(a) by the activation primitive's own VJP with g = 1."""
    if name == "identity":
        return np.ones_like(a)
    return np.asarray(ops.REGISTRY[name].vjp(0)(np.ones_like(a), z, a))


def _v(value) -> str:
    return f"{{v:{float(value)!r}}}"


def _arg(value) -> str:
    """A function argument: always shown in parentheses."""
    return f"{{a:{float(value)!r}}}"


def _name(kind: str, l: int, j: int, L: int) -> str:
    """a^(l)_j, z^(l)_j; the output layer's z is the notes' y_k."""
    if kind == "z" and l == L:
        return f"y_{j}"
    return f"{kind}^({l})_{j}"


class _Trace:
    """Run the model layer by layer on the engine, keeping a^(l) (retained) and z^(l)."""

    def __init__(self, model, X, T, loss):
        self.pairs = layers_of(model)
        self.loss_name = loss
        self.X, self.T = X, T
        z = Tensor(X, dtype=self.pairs[0][0].weight.dtype)
        self.a, self.z = [], [z]
        model.zero_grad()
        for linear, name in self.pairs:
            a = linear(z)
            a.retain_grad()
            z = ACTIVATIONS[name].function(a)
            if z is not a and z.requires_grad:
                z.retain_grad()
            self.a.append(a)
            self.z.append(z)
        self.E = _losses.get(loss)(z, T)
        self.E.backward()



def backprop(model: Module, x, t, loss: str = "sum_of_squares", lr: float | None = None,
             precision: int = 6, title: str | None = None) -> Solution:
    """A worked solution of one forward and backward pass (and the update when ``lr``).

    Args:
        model: an ``nn.MLP`` or a ``Sequential`` of Linear layers and the notes' activations.
        x: one pattern ``(D,)`` or a few ``(N, D)`` (their errors are summed, eq. 2.21).
        t: the target(s), ``(K,)`` or ``(N, K)``; class labels for ``cross_entropy``.
        loss: ``"sum_of_squares"``, ``"binary_cross_entropy"`` or ``"cross_entropy"``.
        lr: η; when given, every updated weight w − η ∂E/∂w (eq. 2.20).

    Returns:
        A :class:`Solution`; ``to_dict()`` keys follow the notes: ``"a^(1)_2"``, ``"z^(1)_2"``,
        ``"y_1"``, ``"E"``, ``"delta^(2)_1"``, ``"dE/dw^(1)_21"``, ``"w^(1)_21 new"`` (and,
        for N > 1 patterns, per-pattern keys end in ``" [n=2]"``).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.MLP("1-1", rng=0); net.linears[0].weight.data[:] = 2.0
        >>> sol = dg.explain.backprop(net, [1.0], [3.0], lr=0.1)
        >>> sol["delta^(1)_1"], round(sol["w^(1)_11 new"], 6)
        (-1.0, 2.1)
    """
    if loss not in CANONICAL:
        raise ValueError(f"explain: unknown loss {loss!r}; expected one of {sorted(CANONICAL)}")
    if lr is not None:
        check.positive(lr, "lr", "explain")
    for name, p in model.named_parameters():
        if not np.all(np.isfinite(p.data)):
            raise ValueError(f"explain: the model's {name} contains NaN or infinite values")
    X = np.atleast_2d(numbers_of(x, "x", "explain", ranks=(1, 2)))
    T = targets_for(model, len(X), numbers_of(t, "t", "explain"), loss, "explain")
    trace = _Trace(model, X, T, loss)
    sol = Solution(title or f"Backpropagation through a {_sizes(trace)} network",
                   precision=precision)
    _forward_sections(sol, trace)
    _backward_sections(sol, trace)
    _gradient_section(sol, trace)
    if lr is not None:
        _update_section(sol, trace, lr)
    return sol


def targets_for(model, N: int, T: np.ndarray, loss: str, owner: str) -> np.ndarray:
    """The targets ``(N, K)`` of N patterns for the model's K outputs, after refusing a loss
    the output layer cannot take (``losses.pairing``): ``t`` given as ``(N, K)``, as one
    pattern's ``(K,)``, as one target per pattern ``(N,)`` when K = 1, or, for cross_entropy,
    as N class labels in [0, K); anything else names both counts."""
    K = model_outputs(model)
    verdict, reason = _losses.pairing(layers_of(model)[-1][1], loss, K)
    if verdict == "refuse":
        raise ValueError(f"{owner}: loss {loss!r} does not fit this network: {reason}")
    if loss == "cross_entropy" and T.ndim <= 1 and T.size == N:  # labels (K ≥ 2 here)
        labels = T.reshape(N)
        if not np.all(labels == np.round(labels)) or labels.min() < 0 or labels.max() >= K:
            raise ValueError(f"{owner}: t holds class labels {labels.tolist()}, but the network "
                             f"has {K} outputs: labels must be integers in [0, {K - 1}]")
        return _losses.one_hot(labels.astype(np.int64), K)
    if T.shape == (N, K) or T.size == N * K and (T.ndim <= 1 and (N == 1 or K == 1)):
        return T.reshape(N, K)
    labels = " or N class labels (N,)" if loss == "cross_entropy" else ""
    raise ValueError(f"{owner}: t has shape {T.shape}, but x holds {N} pattern(s) and the "
                     f"network has {K} output(s): give t as (N, K) = ({N}, {K}){labels}")


def model_outputs(model) -> int:
    return layers_of(model)[-1][0].out_features


def _sizes(trace) -> str:
    return "-".join(str(n) for n in [trace.pairs[0][0].in_features] +
                    [lin.out_features for lin, _ in trace.pairs])


def _suffix(n: int, N: int) -> str:
    return f" [n={n + 1}]" if N > 1 else ""


def _forward_sections(sol: Solution, trace: _Trace) -> None:
    N, L = len(trace.X), len(trace.pairs)
    inputs = sol.section("Inputs and targets")
    for n in range(N):
        for i, v in enumerate(trace.X[n], start=1):
            inputs.lines.append(Line(f"x_{i}{_suffix(n, N)}", v))
        for k, v in enumerate(trace.T[n], start=1):
            inputs.lines.append(Line(f"t_{k}{_suffix(n, N)}", v))
    for l, ((linear, name), a, z) in enumerate(zip(trace.pairs, trace.a, trace.z[1:]), start=1):
        W, b = linear.weight.data, linear.bias.data if linear.bias is not None else None
        source = "x" if l == 1 else "z"
        section = sol.section(
            f"Layer {l} forward: a^({l})_j = Σ_i w^({l})_ji {source}_i + w^({l})_j0 "
            f"(eq. 1.2), {'y' if l == L else 'z'}_j = {name}(a_j) (eq. 1.3)")
        previous = trace.z[l - 1].data
        for n in range(N):
            for j in range(W.shape[0]):
                terms = " + ".join(f"{_v(W[j, i])}·{_v(previous[n, i])}"
                                   for i in range(W.shape[1]))
                bias = f" + {_v(b[j])}" if b is not None else ""
                section.lines.append(Line(_name("a", l, j + 1, L) + _suffix(n, N),
                                          a.data[n, j], working=terms + bias))
            for j in range(W.shape[0]):
                section.lines.append(Line(_name("z", l, j + 1, L) + _suffix(n, N), z.data[n, j],
                                          formula=f"{name}{_arg(a.data[n, j])}"))
    error = sol.section(f"Error: E = {ERROR_TEXT[trace.loss_name]}")
    error.lines.append(Line("E", trace.E.item()))


def _backward_sections(sol: Solution, trace: _Trace) -> None:
    N, L = len(trace.X), len(trace.pairs)
    out_name = trace.pairs[-1][1]
    canonical = CANONICAL[trace.loss_name] == out_name
    y, a_out = trace.z[-1], trace.a[-1]
    rule1 = sol.section(f"Output δ (Rule 1, eq. 3.8–3.9): δ^({L})_k = ∂E/∂a^({L})_k",
                        note=("canonical pair: δ_k = y_k − t_k" if canonical else
                              f"non-canonical pair: δ_k = ∂E/∂y_k · g′(a_k), g = {out_name}"))
    g_prime = _derivative(out_name, a_out.data, y.data) if not canonical and \
        out_name != "softmax" else None
    for n in range(N):
        for k in range(a_out.shape[1]):
            key = f"delta^({L})_{k + 1}{_suffix(n, N)}"
            delta = a_out.grad[n, k]
            if canonical:
                rule1.lines.append(Line(key, delta, formula="y − t",
                                        working=f"{_v(y.data[n, k])} − {_v(trace.T[n, k])}"))
            elif g_prime is not None:
                rule1.lines.append(Line(key, delta, formula=f"∂E/∂y · {DERIVATIVE[out_name]}",
                                        working=f"{_v(y.grad[n, k])} × {_v(g_prime[n, k])}"))
            else:
                rule1.lines.append(Line(key, delta, formula="Σ_j ∂E/∂y_j ∂y_j/∂a_k (softmax)"))
    for l in range(L - 1, 0, -1):
        linear_next, _ = trace.pairs[l]
        name = trace.pairs[l - 1][1]
        a, z = trace.a[l - 1], trace.z[l]
        W_next = linear_next.weight.data
        delta_next = trace.a[l].grad
        propagated = ops.linear.vjp(0)(delta_next, None, z.data, W_next)  # Σ_k w_kj δ_k
        h_prime = _derivative(name, a.data, z.data)
        section = sol.section(
            f"Hidden δ (Rule 2, eq. 3.10): δ^({l})_j = h′(a^({l})_j) Σ_k w^({l + 1})_kj "
            f"δ^({l + 1})_k, h′ = {DERIVATIVE[name]}")
        for n in range(N):
            for j in range(a.shape[1]):
                terms = " + ".join(f"{_v(W_next[k, j])}·{_v(delta_next[n, k])}"
                                   for k in range(W_next.shape[0]))
                section.lines.append(Line(f"h'(a^({l})_{j + 1}){_suffix(n, N)}",
                                          h_prime[n, j], formula=DERIVATIVE[name].replace(
                                              "z", _v(z.data[n, j]))))
                section.lines.append(Line(f"sum^({l})_{j + 1}{_suffix(n, N)}",
                                          propagated[n, j], formula=terms))
                section.lines.append(Line(f"delta^({l})_{j + 1}{_suffix(n, N)}", a.grad[n, j],
                                          working=f"{_v(h_prime[n, j])} × {_v(propagated[n, j])}"))


def _gradient_section(sol: Solution, trace: _Trace) -> None:
    N = len(trace.X)
    section = sol.section("Gradients (Rule 3, eq. 3.11): ∂E/∂w_ji = Σ_n δ_j z_i, "
                          "∂E/∂w_j0 = Σ_n δ_j")
    for l, (linear, _) in enumerate(trace.pairs, start=1):
        delta, source = trace.a[l - 1].grad, trace.z[l - 1].data
        for j in range(linear.out_features):
            for i in range(linear.in_features):
                products = " + ".join(f"{_v(delta[n, j])}·{_v(source[n, i])}" for n in range(N))
                section.lines.append(Line(f"dE/dw^({l})_{j + 1}{i + 1}",
                                          linear.weight.grad[j, i], working=products))
            if linear.bias is not None:
                sums = " + ".join(_v(delta[n, j]) for n in range(N))
                section.lines.append(Line(f"dE/dw^({l})_{j + 1}0", linear.bias.grad[j],
                                          working=sums))


def _update_section(sol: Solution, trace: _Trace, lr: float) -> None:
    section = sol.section(f"Update (eq. 2.20): w ← w − η ∂E/∂w, η = {lr:g}")
    for l, (linear, _) in enumerate(trace.pairs, start=1):
        params = [(f"{i + 1}", linear.weight.data[:, i], linear.weight.grad[:, i])
                  for i in range(linear.in_features)]
        if linear.bias is not None:
            params.append(("0", linear.bias.data, linear.bias.grad))
        for j in range(linear.out_features):
            for i, w, g in params:
                section.lines.append(Line(f"w^({l})_{j + 1}{i} new", w[j] - lr * g[j],
                                          working=f"{_v(w[j])} − {lr:g} × {_v(g[j])}"))
