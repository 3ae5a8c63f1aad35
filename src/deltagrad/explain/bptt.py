"""Backpropagation through time, worked out in the layout of §9.3: per step a⁽ᵗ⁾, h⁽ᵗ⁾, o⁽ᵗ⁾, ŷ⁽ᵗ⁾
and E⁽ᵗ⁾; δ_o⁽ᵗ⁾; δ_h⁽ᵗ⁾ from both paths (eq. 9.14); the gradients summed over time (eq. 8.10);
the update.

The numbers come from the engine. The model runs on the unfolded graph of §8.3: step t is the
layer's own fused primitive run for one step, with its own copies of the shared weights, so
the gradient of step t's copy is that step's contribution ∂E⁽·⁾/∂W|_t and the gradient of its
bias copy is δ_h⁽ᵗ⁾. The totals are the gradients of the real layer run over the whole
sequence (the fused BPTT), and the two paths of eq. 9.14 are the ``linear`` primitive's VJP.
"""

from __future__ import annotations

import numpy as np

from .. import losses as _losses
from .. import ops
from ..nn.linear import Linear
from ..nn.recurrent import RNN
from ..tensor import Tensor
from .backprop import _arg, _v
from .solution import Line, Solution

DERIVATIVE = {"tanh": "1 − h²", "relu": "1 if h > 0 else 0"}


def _check(rnn, output_layer, xs, ys):
    if not isinstance(rnn, RNN) or rnn.num_layers != 1 or rnn.bidirectional:
        raise ValueError(f"explain.bptt: rnn must be a one-layer, one-directional nn.RNN "
                         f"(§9.3), got {rnn!r}")
    if not isinstance(output_layer, Linear) or output_layer.bias is None:
        raise ValueError(f"explain.bptt: output_layer must be an nn.Linear with a bias (W_hy, "
                         f"b_y, eq. 8.8; identity output g), got {output_layer!r}")
    if output_layer.in_features != rnn.hidden_size:
        raise ValueError(f"explain.bptt: output_layer takes {output_layer.in_features} inputs "
                         f"but the RNN has {rnn.hidden_size} hidden units")
    xs = np.asarray(xs, dtype=rnn.dtype)
    ys = np.asarray(ys, dtype=rnn.dtype)
    xs = xs[0] if xs.ndim == 3 and xs.shape[0] == 1 else xs
    ys = ys[0] if ys.ndim == 3 and ys.shape[0] == 1 else ys
    if xs.ndim != 2 or xs.shape[1] != rnn.input_size or len(xs) == 0:
        raise ValueError(f"explain.bptt: xs must be one sequence (T, {rnn.input_size}), got "
                         f"shape {xs.shape}")
    if ys.shape != (len(xs), output_layer.out_features):
        raise ValueError(f"explain.bptt: ys must have shape ({len(xs)}, "
                         f"{output_layer.out_features}) (one target per step), got {ys.shape}")
    return xs, ys


class _Unfolded:
    """The unfolded graph (§8.3): per step, copies of the shared weights as leaves."""

    def __init__(self, rnn, out, xs, ys):
        T = len(xs)
        leaf = lambda p: Tensor(p.data.copy(), requires_grad=True)  # noqa: E731
        self.copies = [{name: leaf(p) for name, p in (
            ("W_xh", rnn.W_xh), ("W_hh", rnn.W_hh), ("b_h", rnn.b_h),
            ("W_hy", out.weight), ("b_y", out.bias))} for _ in range(T)]
        h = Tensor(np.zeros((1, rnn.hidden_size), dtype=rnn.dtype))
        self.h, self.o, self.E_steps = [h], [], []
        E = None
        for t in range(T):
            c = self.copies[t]
            H = ops.rnn_sequence(Tensor(xs[None, t:t + 1]), h, c["W_xh"], c["W_hh"], c["b_h"],
                                 nonlinearity=rnn.nonlinearity)
            h = H[:, 0]
            h.retain_grad()
            o = ops.linear(h, c["W_hy"], c["b_y"])
            o.retain_grad()
            E_t = _losses.sum_of_squares(o, ys[None, t])
            E = E_t if E is None else E + E_t
            self.h.append(h)
            self.o.append(o)
            self.E_steps.append(E_t.item())
        E.backward()
        self.E = E.item()

    def delta_h(self, t: int) -> np.ndarray:
        """δ_h⁽ᵗ⁾ = ∂E/∂a⁽ᵗ⁾: the gradient of step t's copy of b_h (t from 1)."""
        return self.copies[t - 1]["b_h"].grad


def _engine_totals(rnn, out, xs, ys) -> None:
    """The real layer over the whole sequence (the fused BPTT): .grad of every parameter."""
    rnn.zero_grad()
    out.zero_grad()
    H, _ = rnn(xs[None])
    _losses.sum_of_squares(out(H), ys[None]).backward()


def bptt(rnn: RNN, output_layer: Linear, xs, ys, lr: float | None = None,
         precision: int = 6, title: str | None = None) -> Solution:
    """A worked solution of BPTT for one sequence, in the layout of §9.3.

    The model is eq. 8.6–8.9 with an identity output, ŷ⁽ᵗ⁾ = o⁽ᵗ⁾ = W_hy h⁽ᵗ⁾ + b_y, and the
    error E = Σ_t ½ ‖ŷ⁽ᵗ⁾ − y⁽ᵗ⁾‖² (eq. 9.12–9.13); h⁽⁰⁾ = 0.

    Args:
        rnn: a one-layer ``nn.RNN`` (W_xh, W_hh, b_h).
        output_layer: an ``nn.Linear(D_h, D_y)`` (W_hy, b_y).
        xs: the inputs (T, D_x); ys: the targets (T, D_y).
        lr: η; when given, every updated weight W − η ∂E/∂W.

    Returns:
        A :class:`Solution` with keys ``"a^(1)[1]"``, ``"h^(1)[1]"``, ``"o^(1)[1]"``,
        ``"yhat^(1)[1]"``, ``"E^(1)"``, ``"E"``, ``"delta_o^(1)[1]"``, ``"delta_h^(1)[2]"``,
        ``"dE/dW_hh[1,2]"``, ``"dE/db_y[1]"``, ``"W_hh[1,2] new"``, …

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> rnn, out = dg.nn.RNN(1, 1, rng=0), dg.nn.Linear(1, 1, rng=1)
        >>> sol = dg.explain.bptt(rnn, out, [[1.0], [0.5]], [[0.2], [0.1]], lr=0.1)
        >>> round(sol["E"], 6) == round(sol["E^(1)"] + sol["E^(2)"], 6)
        True
    """
    xs, ys = _check(rnn, output_layer, xs, ys)
    if lr is not None and (not np.isfinite(lr) or lr <= 0):
        raise ValueError(f"explain.bptt: lr must be a positive number, got {lr!r}")
    unfolded = _Unfolded(rnn, output_layer, xs, ys)
    _engine_totals(rnn, output_layer, xs, ys)
    T = len(xs)
    sol = Solution(title or f"Backpropagation through time: a {rnn.input_size}-"
                   f"{rnn.hidden_size}-{output_layer.out_features} RNN over T = {T} steps",
                   precision=precision)
    _inputs_section(sol, xs, ys)
    for t in range(1, T + 1):
        _forward_step(sol, rnn, output_layer, unfolded, xs, ys, t)
    sol.section("Total error (eq. 9.13): E = Σ_t E^(t)").lines.append(
        Line("E", unfolded.E, working=" + ".join(_v(e) for e in unfolded.E_steps)))
    _output_deltas(sol, unfolded, ys)
    for t in range(T, 0, -1):
        _hidden_delta(sol, rnn, output_layer, unfolded, t)
    _gradients(sol, rnn, output_layer, unfolded, xs)
    if lr is not None:
        _update(sol, rnn, output_layer, lr)
    return sol


def _vector(values) -> str:
    return "[" + ", ".join(_v(v) for v in values) + "]"


def _inputs_section(sol, xs, ys) -> None:
    section = sol.section("Data (h^(0) = 0)")
    for t, (x, y) in enumerate(zip(xs, ys), start=1):
        for i, v in enumerate(x, start=1):
            section.lines.append(Line(f"x^({t})[{i}]", v))
        for k, v in enumerate(y, start=1):
            section.lines.append(Line(f"y^({t})[{k}]", v))


def _forward_step(sol, rnn, out, unfolded, xs, ys, t: int) -> None:
    f = rnn.nonlinearity
    section = sol.section(f"Forward, t = {t}: a^({t}) = W_hh h^({t - 1}) + W_xh x^({t}) + b_h "
                          f"(eq. 9.8), h^({t}) = {f}(a^({t})), o^({t}) = W_hy h^({t}) + b_y, "
                          f"ŷ = o (eq. 9.10–9.11)")
    h_prev, h = unfolded.h[t - 1].data[0], unfolded.h[t].data[0]
    W_hh, W_xh, b_h = rnn.W_hh.data, rnn.W_xh.data, rnn.b_h.data
    a = ops.linear.forward(h_prev, W_hh) + ops.linear.forward(xs[t - 1], W_xh, b_h)
    for j in range(rnn.hidden_size):
        terms = [f"{_v(W_hh[j, i])}·{_v(h_prev[i])}" for i in range(rnn.hidden_size)]
        terms += [f"{_v(W_xh[j, i])}·{_v(xs[t - 1, i])}" for i in range(rnn.input_size)]
        section.lines.append(Line(f"a^({t})[{j + 1}]", a[j],
                                  working=" + ".join(terms) + f" + {_v(b_h[j])}"))
    for j in range(rnn.hidden_size):
        section.lines.append(Line(f"h^({t})[{j + 1}]", h[j], formula=f"{f}{_arg(a[j])}"))
    o = unfolded.o[t - 1].data[0]
    W_hy, b_y = out.weight.data, out.bias.data
    for k in range(out.out_features):
        terms = " + ".join(f"{_v(W_hy[k, j])}·{_v(h[j])}" for j in range(rnn.hidden_size))
        section.lines.append(Line(f"o^({t})[{k + 1}]", o[k], working=f"{terms} + {_v(b_y[k])}"))
        section.lines.append(Line(f"yhat^({t})[{k + 1}]", o[k], formula=f"o^({t})[{k + 1}]"))
    squares = " + ".join(f"({_v(o[k])} − {_v(ys[t - 1, k])})²" for k in range(len(o)))
    section.lines.append(Line(f"E^({t})", unfolded.E_steps[t - 1], working=f"½ [{squares}]"))


def _output_deltas(sol, unfolded, ys) -> None:
    section = sol.section("Output deltas: δ_o^(t) = ∂E^(t)/∂o^(t) = ŷ^(t) − y^(t)")
    for t, o in enumerate(unfolded.o, start=1):
        for k in range(o.shape[1]):
            section.lines.append(Line(f"delta_o^({t})[{k + 1}]", o.grad[0, k], formula="ŷ − y",
                                      working=f"{_v(o.data[0, k])} − {_v(ys[t - 1, k])}"))


def _hidden_delta(sol, rnn, out, unfolded, t: int) -> None:
    """δ_h⁽ᵗ⁾ = (W_hyᵀ δ_o⁽ᵗ⁾ + W_hhᵀ δ_h⁽ᵗ⁺¹⁾) ⊙ f′(a⁽ᵗ⁾) (eq. 9.14), each path by the
    ``linear`` VJP, f′ by the activation primitive's VJP, δ_h⁽ᵗ⁾ itself from the engine."""
    T = len(unfolded.o)
    f = rnn.nonlinearity
    section = sol.section(
        f"Hidden delta, t = {t} (eq. 9.14): δ_h^({t}) = (W_hyᵀ δ_o^({t}) + W_hhᵀ δ_h^({t + 1}))"
        f" ⊙ f′(a^({t})), f′ = {DERIVATIVE[f]}",
        note=f"δ_h^({T + 1}) = 0: nothing flows from beyond the last step" if t == T else "")
    h = unfolded.h[t].data
    delta_o = unfolded.o[t - 1].grad
    vertical = ops.linear.vjp(0)(delta_o, None, h, out.weight.data)[0]
    if t < T:
        delta_next = unfolded.delta_h(t + 1)
        horizontal = ops.linear.vjp(0)(delta_next[None], None, h, rnn.W_hh.data)[0]
    else:
        delta_next, horizontal = np.zeros(rnn.hidden_size), np.zeros(rnn.hidden_size)
    slope = np.asarray(ops.REGISTRY[f].vjp(0)(np.ones_like(h), h, h))[0]
    delta = unfolded.delta_h(t)
    W_hy, W_hh = out.weight.data, rnn.W_hh.data
    for j in range(rnn.hidden_size):
        section.lines.append(Line(f"W_hy^T delta_o^({t})[{j + 1}]", vertical[j], working=" + ".join(
            f"{_v(W_hy[k, j])}·{_v(delta_o[0, k])}" for k in range(W_hy.shape[0]))))
        section.lines.append(Line(f"W_hh^T delta_h^({t + 1})[{j + 1}]", horizontal[j],
                                  working=" + ".join(f"{_v(W_hh[k, j])}·{_v(delta_next[k])}"
                                                     for k in range(rnn.hidden_size))))
        section.lines.append(Line(f"f'(a^({t})[{j + 1}])", slope[j],
                                  formula=DERIVATIVE[f].replace("h", _v(h[0, j]), 1)))
        section.lines.append(Line(f"delta_h^({t})[{j + 1}]", delta[j],
                                  working=f"({_v(vertical[j])} + {_v(horizontal[j])}) × "
                                          f"{_v(slope[j])}"))


def _gradients(sol, rnn, out, unfolded, xs) -> None:
    section = sol.section("Gradients summed over time (eq. 8.10, 9.7): ∂E/∂W = Σ_t ∂E/∂W|_t; "
                          "W_hy: δ_o^(t) h^(t)ᵀ, W_xh: δ_h^(t) x^(t)ᵀ, W_hh: δ_h^(t) h^(t−1)ᵀ")
    for name, param, owner in (("W_hy", out.weight, "W_hy"), ("b_y", out.bias, "b_y"),
                               ("W_xh", rnn.W_xh, "W_xh"), ("W_hh", rnn.W_hh, "W_hh"),
                               ("b_h", rnn.b_h, "b_h")):
        per_step = [c[owner].grad for c in unfolded.copies]
        for index in np.ndindex(param.shape):
            label = ",".join(str(i + 1) for i in index)
            section.lines.append(Line(f"dE/d{name}[{label}]", param.grad[index],
                                      working=" + ".join(_v(g[index]) for g in per_step)))


def _update(sol, rnn, out, lr: float) -> None:
    section = sol.section(f"Update (§9.3.5): W ← W − η ∂E/∂W, η = {lr:g}")
    for name, param in (("W_hh", rnn.W_hh), ("W_xh", rnn.W_xh), ("b_h", rnn.b_h),
                        ("W_hy", out.weight), ("b_y", out.bias)):
        for index in np.ndindex(param.shape):
            label = ",".join(str(i + 1) for i in index)
            w, g = param.data[index], param.grad[index]
            section.lines.append(Line(f"{name}[{label}] new", w - lr * g,
                                      working=f"{_v(w)} − {lr:g} × {_v(g)}"))
