"""LogicNetwork: an MLP of Heaviside perceptrons (Linear + Step, eq. 5.1–5.2) over 0/1 inputs,
with its truth table, exhaustive verification and a description of every neuron."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from .._state import no_grad
from ..nn.container import MLP
from ..nn.registry import dense_weights, layer_sizes, savable
from . import parser

MAX_EXHAUSTIVE = 20


def truth_table_inputs(n: int) -> np.ndarray:
    """All 2^n input rows in the notes' order (x1 is the most significant bit): (2^n, n)."""
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    rows = np.arange(2 ** n, dtype=np.int64)[:, None]
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((rows >> shifts) & 1).astype(np.float64)


@savable()
class LogicNetwork(MLP):
    """A network of perceptrons: every layer is ``Linear`` followed by ``Step``.

    Args:
        layers: ``[(W, b, labels), ...]``: each W of shape (units, inputs) with the notes'
            w_ji, b the biases w_j0, labels one description per unit (e.g. ``"x1 AND x2"``).
        variables: the input names, in order.
        expression: the expression it was compiled from, if any.
    """

    def __init__(self, layers, variables, expression: str | None = None):
        sizes = [len(variables)] + [len(b) for _, b, _ in layers]
        super().__init__(sizes, hidden="step", output="step", rng=0)  # weights set below
        for linear, (W, b, _) in zip(self.linears, layers):
            linear.weight.data[...] = np.asarray(W, dtype=np.float64)
            linear.bias.data[...] = np.asarray(b, dtype=np.float64)
        object.__setattr__(self, "variables", list(variables))
        object.__setattr__(self, "labels", [list(labels) for _, _, labels in layers])
        object.__setattr__(self, "expression", expression)

    def config(self) -> dict:
        return {"sizes": self.sizes, "variables": self.variables, "labels": self.labels,
                "expression": self.expression}

    @classmethod
    def from_config(cls, spec):
        sizes = spec.get("sizes", list, layer_sizes)
        spec.reserve(dense_weights(sizes))
        variables = spec.get("variables", list, lambda v: len(v) == sizes[0] and all(
            isinstance(x, str) for x in v))
        labels = spec.get("labels", list, lambda v: len(v) == len(sizes) - 1 and all(
            isinstance(ls, list) and len(ls) == n and all(isinstance(x, str) for x in ls)
            for ls, n in zip(v, sizes[1:])))
        layers = [(np.zeros((n_out, n_in)), np.zeros(n_out), lab)
                  for n_in, n_out, lab in zip(sizes[:-1], sizes[1:], labels)]
        return cls(layers, variables, expression=spec.get("expression", (str, type(None))))

    @property
    def n_inputs(self) -> int:
        return len(self.variables)

    @property
    def hidden_units(self) -> int:
        """The number of neurons below the output layer."""
        return sum(len(labels) for labels in self.labels[:-1])

    def truth_table(self) -> np.ndarray:
        """Rows ``[x1 … xn, y]`` for all 2^n inputs (ints), in the notes' order."""
        X = truth_table_inputs(self.n_inputs)
        return np.hstack([X, self.outputs(X)]).astype(np.int64)

    def outputs(self, X) -> np.ndarray:
        with no_grad():
            return self(np.asarray(X, dtype=np.float64)).data

    def describe(self, fmt: str = "text") -> str:
        """Every neuron's weights and bias, layer by layer (``text``, ``markdown`` or ``json``)."""
        layers = []
        for l, (linear, labels) in enumerate(zip(self.linears, self.labels), start=1):
            sources = self.variables if l == 1 else [f"h{l - 1}_{j + 1}"
                                                    for j in range(linear.in_features)]
            units = []
            for j, label in enumerate(labels):
                name = "y" if l == len(self.linears) else f"h{l}_{j + 1}"
                units.append({"name": name, "computes": label, "inputs": sources,
                              "weights": [_number(w) for w in linear.weight.data[j]],
                              "bias": _number(linear.bias.data[j])})
            layers.append({"layer": l, "units": units})
        if fmt == "json":
            return json.dumps({"expression": self.expression, "variables": self.variables,
                               "layers": layers}, indent=2)
        if fmt not in ("text", "markdown"):
            raise ValueError(f"describe: format must be 'text', 'markdown' or 'json', got {fmt!r}")
        md = fmt == "markdown"  # headings, paragraphs and lists apart; names as code
        lines = [("## " if md else "") + (f"Network for {self.expression}" if self.expression
                                           else "Logic network"),
                 *([""] if md else []),
                 f"inputs: {', '.join(self.variables)}; "
                 f"architecture {'-'.join(map(str, self.sizes))}; f(z) = 1 if z ≥ 0 else 0"]
        for layer in layers:
            kind = "output" if layer["layer"] == len(layers) else "hidden"
            lines += ["", f"### Layer {layer['layer']} ({kind})", ""] if md else \
                [f"Layer {layer['layer']} ({kind})"]
            for u in layer["units"]:
                w = ", ".join(f"{v:+g}" for v in u["weights"])
                name = f"`{u['name']}`" if md else u["name"]
                lines.append(f"{'- ' if md else '  '}{name} = {u['computes']}: w = [{w}], "
                             f"b = {u['bias']:+g}")
        return "\n".join(lines)

    def extra_repr(self) -> str:
        return f"{'-'.join(map(str, self.sizes))}, variables={self.variables}"


def _number(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value


@dataclass
class Verification:
    """The outcome of :func:`verify`; truthy when every checked row agrees."""

    ok: bool
    rows: int
    counterexample: dict | None = None

    def __bool__(self) -> bool:
        return self.ok


def _expected(target, names, X) -> np.ndarray:
    columns = {name: X[:, i].astype(bool) for i, name in enumerate(names)}
    if isinstance(target, str):
        target = parser.parse(target)
    if isinstance(target, (parser.Var, parser.Const, parser.Op)):
        missing = sorted(set(parser.variables(target)) - set(names))
        if missing:
            raise ValueError(f"verify: the expression uses {missing}, which the network does "
                             f"not have as inputs {names}")
        return np.broadcast_to(parser.evaluate(target, columns), (len(X),)).astype(np.int64)
    if callable(target):
        bits = [X[:, i].astype(np.int64) for i in range(X.shape[1])]
        try:
            out = np.asarray(target(*bits))
            if out.shape == (len(X),):
                return (out != 0).astype(np.int64)
        except (TypeError, ValueError):
            pass
        return np.array([int(bool(target(*row))) for row in X.astype(np.int64)])
    table = np.asarray(target).ravel()
    if table.shape != (len(X),):
        raise ValueError(f"verify: a truth table needs {len(X)} values, got {table.size}")
    return table.astype(np.int64)


def verify(network: LogicNetwork, target, samples: int | None = None,
           seed: int = 0) -> Verification:
    """Check the network against an expression, a function of the bits, or a truth table.

    Exhaustive (all 2^n rows in one vectorised batch) for n ≤ 20; beyond that pass ``samples``
    to check that many random rows.
    """
    n = network.n_inputs
    if samples is None:
        if n > MAX_EXHAUSTIVE:
            raise ValueError(f"verify: exhaustive verification is limited to n ≤ "
                             f"{MAX_EXHAUSTIVE} inputs (2^n rows); this network has {n}: pass "
                             "samples=100_000 to check random rows")
        X = truth_table_inputs(n)
    else:
        if not isinstance(samples, (int, np.integer)) or samples < 1:
            raise ValueError(f"verify: samples must be a positive integer, got {samples!r}")
        X = np.random.default_rng(seed).integers(0, 2, size=(samples, n)).astype(np.float64)
    expected = _expected(target, network.variables, X)
    got = network.outputs(X)[:, 0].astype(np.int64)
    bad = np.flatnonzero(got != expected)
    if bad.size == 0:
        return Verification(True, len(X))
    row = X[bad[0]].astype(int)
    return Verification(False, len(X), {**dict(zip(network.variables, row.tolist())),
                                        "network": int(got[bad[0]]),
                                        "expected": int(expected[bad[0]])})
