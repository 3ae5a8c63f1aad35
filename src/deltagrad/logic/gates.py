"""The gates of §5.2 and §6.2 with the notes' weights, and XOR as (OR, NAND) → AND (§5.3)."""

from __future__ import annotations

import numpy as np

from .._naming import input_names
from .network import LogicNetwork

# name -> (weight per input, bias as a function of n)  (§5.2, §6.2)
GATES = {
    "and": (1.0, lambda n: -n + 0.5),
    "or": (1.0, lambda n: -0.5),
    "nand": (-1.0, lambda n: n - 0.5),
    "nor": (-1.0, lambda n: 0.5),
    "not": (-1.0, lambda n: 0.5),
}
GATE_NAMES = sorted(GATES) + ["xor"]


def gate_weights(name: str, n: int) -> tuple:
    """``(weights, bias)`` of the n-input gate ``name`` (one perceptron)."""
    weight, bias = GATES[name]
    return np.full(n, weight), bias(n)


def gate(name: str, n: int = 2) -> LogicNetwork:
    """The perceptron network of a gate: ``"and"``, ``"or"``, ``"nand"``, ``"nor"`` (n ≥ 1
    inputs), ``"not"`` (1 input) or ``"xor"`` (2 inputs, two layers).

    Example:
        >>> gate("nand", n=4).describe().splitlines()[-1]
        '  y = NAND(x1, x2, x3, x4): w = [-1, -1, -1, -1], b = +3.5'
    """
    if not isinstance(name, str) or name.lower() not in GATE_NAMES:
        raise ValueError(f"gate: unknown gate {name!r}; expected one of {GATE_NAMES}")
    name = name.lower()
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"gate: n must be a positive integer, got {n!r}")
    if name == "not" and n != 1:
        raise ValueError(f"gate: NOT has exactly one input, got n={n}")
    if name == "xor":
        if n != 2:
            raise ValueError(f"gate: XOR is built for n = 2 inputs (§5.3), got n={n}; compile "
                             "'x1 xor x2 xor ...' for more")
        return xor_network()
    names = input_names(n)
    w, b = gate_weights(name, n)
    label = f"{name.upper()}({', '.join(names)})"
    return LogicNetwork([(w[None, :], [b], [label])], names, expression=label)


def xor_network() -> LogicNetwork:
    """XOR = (x1 OR x2) AND (x1 NAND x2): hidden h1 = OR, h2 = NAND, output AND (§5.3)."""
    w_or, b_or = gate_weights("or", 2)
    w_nand, b_nand = gate_weights("nand", 2)
    w_and, b_and = gate_weights("and", 2)
    hidden = (np.stack([w_or, w_nand]), [b_or, b_nand], ["x1 OR x2", "x1 NAND x2"])
    output = (w_and[None, :], [b_and], ["h1 AND h2"])
    return LogicNetwork([hidden, output], ["x1", "x2"], expression="x1 xor x2")
