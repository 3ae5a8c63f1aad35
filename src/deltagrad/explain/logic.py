"""The §5.3 verification list for a logic network: each neuron's weighted sum and output."""

from __future__ import annotations

import numpy as np

from ..logic.network import LogicNetwork
from .solution import Line, Solution


def logic(network: LogicNetwork, x, precision: int = 1) -> Solution:
    """For input x: z = Σ_i w_i x_i + b and f(z) for every neuron, layer by layer (§5.3).

    Example:
        >>> import deltagrad as dg
        >>> sol = dg.explain.logic(dg.logic.gate("xor"), [0, 1])
        >>> sol["h1_1"], sol["h1_2"], sol["y"]
        (1.0, 1.0, 1.0)
    """
    if not isinstance(network, LogicNetwork):
        raise TypeError(f"explain.logic: expected a logic.LogicNetwork, got "
                        f"{type(network).__name__}")
    values = np.asarray(x, dtype=np.float64).ravel()
    if values.shape != (network.n_inputs,) or not np.all((values == 0) | (values == 1)):
        raise ValueError(f"explain.logic: x must be {network.n_inputs} values 0/1 for inputs "
                         f"{network.variables}, got {np.ravel(x).tolist()}")
    sol = Solution(f"Verification of x = {[int(v) for v in values]}" +
                   (f" for {network.expression}" if network.expression else ""),
                   precision=precision)
    inputs = sol.section("Inputs")
    for name, v in zip(network.variables, values):
        inputs.lines.append(Line(name, v))
    signal, L = values, len(network.linears)
    for l, (linear, labels) in enumerate(zip(network.linears, network.labels), start=1):
        W, b = linear.weight.data, linear.bias.data
        z = W @ signal + b
        out = (z >= 0).astype(float)  # f(z) of eq. 5.2, as the Step primitive
        section = sol.section(f"Layer {l}: z = Σ_i w_i x_i + b, f(z) = 1 if z ≥ 0 else 0")
        for j, label in enumerate(labels):
            name = "y" if l == L else f"h{l}_{j + 1}"
            terms = " + ".join(f"({W[j, i]:g}·{signal[i]:g})" for i in range(len(signal))
                               if W[j, i] != 0) or "0"
            section.lines.append(Line(f"z({name})", z[j], working=f"{terms} + ({b[j]:g})"))
            section.lines.append(Line(name, out[j], formula=f"f({z[j]:+g}) — {label}"))
        signal = out
    return sol
