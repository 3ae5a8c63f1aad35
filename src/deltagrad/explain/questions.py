"""The practice questions of §3.4 and the example of §2.1.3, solved by the tracer."""

from __future__ import annotations

import numpy as np

from ..nn.container import MLP
from .rules import hidden_delta
from .backprop import DERIVATIVE, _v, backprop
from .solution import Line, Solution

# each: sizes, hidden, output, [(W, b) per layer], x, t, loss  (W[j][i] = w_ji)
SPECS = {
    "2.1.3": dict(sizes=[2, 1, 1], hidden="tanh", output="sigmoid",
                  layers=[([[0.8, -0.5]], [0.2]), ([[1.0]], [-0.3])],
                  x=[0.5, 1.0], t=[1.0], loss="binary_cross_entropy",
                  title="§2.1.3 numerical example: binary classification"),
    "1": dict(sizes=[2, 2, 1], hidden="tanh", output="identity",
              layers=[([[0.5, 0.2], [-0.3, 0.8]], [0.1, 0.0]), ([[1.0, -0.5]], [0.2])],
              x=[1.0, 0.5], t=[1.0], loss="sum_of_squares",
              title="Practice question 1: a 2-2-1 regression network"),
    "2": dict(sizes=[2, 2, 1], hidden="sigmoid", output="sigmoid",
              layers=[([[0.1, -0.2], [0.4, 0.3]], [0.0, -0.1]), ([[0.5, -0.4]], [0.2])],
              x=[1.0, 2.0], t=[1.0], loss="binary_cross_entropy",
              title="Practice question 2: a 2-2-1 binary classification network"),
}


def network(spec: dict) -> MLP:
    """The MLP of a spec with its weights set."""
    net = MLP(spec["sizes"], hidden=spec["hidden"], output=spec["output"], rng=0)
    for linear, (W, b) in zip(net.linears, spec["layers"]):
        linear.weight.data[...] = np.asarray(W, dtype=np.float64)
        linear.bias.data[...] = np.asarray(b, dtype=np.float64)
    return net


def hidden_unit(delta_next, weights_next, z, activation: str = "tanh", unit: int = 1,
                layer: int = 1, x=None, precision: int = 6, title: str | None = None) -> Solution:
    """Rule 2 for one hidden unit j from given δ's of the next layer (as question 3):
    δ^(l)_j = h′(a_j) Σ_k w^(l+1)_kj δ^(l+1)_k, and, with the inputs x, ∂E/∂w^(l)_ji = δ_j x_i.

    Args:
        delta_next: δ^(l+1)_k, shape (K,).
        weights_next: the column j of W^(l+1), i.e. w^(l+1)_kj for k = 1…K, shape (K,).
        z: z^(l)_j, the unit's output (h′ is written from it, e.g. 1 − z² for tanh).
        unit: j (from 1), for the names.
        x: the inputs x_i of layer l (a dict {i: x_i} or a sequence from i = 1), optional.
    """
    delta_next = np.atleast_1d(np.asarray(delta_next, dtype=np.float64))
    column = np.atleast_1d(np.asarray(weights_next, dtype=np.float64))
    if column.shape != delta_next.shape:
        raise ValueError(f"hidden_unit: weights_next has shape {column.shape} but delta_next "
                         f"has shape {delta_next.shape}; give w^(l+1)_kj for every k")
    delta = float(hidden_delta(delta_next, column[:, None], [float(z)], activation)[0])
    h_prime = float(hidden_delta([1.0], [[1.0]], [float(z)], activation)[0])
    l, j = layer, unit
    sol = Solution(title or f"Rule 2 for hidden unit {j} of layer {l}", precision=precision)
    given = sol.section("Given")
    for k, (d, w) in enumerate(zip(delta_next, column), start=1):
        given.lines.append(Line(f"delta^({l + 1})_{k}", d))
        given.lines.append(Line(f"w^({l + 1})_{k}{j}", w))
    given.lines.append(Line(f"z^({l})_{j}", float(z)))
    rule = sol.section(f"Rule 2 (eq. 3.10): δ^({l})_{j} = h′(a^({l})_{j}) Σ_k w^({l + 1})_k{j} "
                       f"δ^({l + 1})_k, h′ = {DERIVATIVE[activation]}")
    propagated = float(column @ delta_next)
    rule.lines.append(Line(f"h'(a^({l})_{j})", h_prime,
                           formula=DERIVATIVE[activation].replace("z", _v(z))))
    rule.lines.append(Line(f"sum^({l})_{j}", propagated, formula=" + ".join(
        f"{_v(w)}·{_v(d)}" for w, d in zip(column, delta_next))))
    rule.lines.append(Line(f"delta^({l})_{j}", delta, working=f"{_v(h_prime)} × {_v(propagated)}"))
    if x is not None:
        items = x.items() if isinstance(x, dict) else enumerate(np.ravel(x), start=1)
        grads = sol.section(f"Gradients (Rule 3, eq. 3.11): ∂E/∂w^({l})_{j}i = δ^({l})_{j} x_i")
        for i, value in items:
            grads.lines.append(Line(f"dE/dw^({l})_{j}{i}", delta * float(value),
                                    working=f"{_v(delta)} × {_v(value)}"))
    return sol


def question(number, precision: int = 6, lr: float | None = None) -> Solution:
    """The full worked solution of practice question 1, 2 or 3 (§3.4), or ``"2.1.3"``."""
    key = str(number)
    if key == "3":
        return hidden_unit([0.5, -0.2], [0.8, 0.1], 0.7, "tanh", unit=2, layer=1,
                           x={1: 1.5}, precision=precision,
                           title="Practice question 3: error splitting and summing")
    if key not in SPECS:
        raise ValueError(f"explain: unknown question {number!r}; expected 1, 2, 3 or '2.1.3'")
    spec = SPECS[key]
    return backprop(network(spec), spec["x"], spec["t"], loss=spec["loss"], lr=lr,
                    precision=precision, title=spec["title"])
