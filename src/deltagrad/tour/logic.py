"""Chapters 5–6, logic with perceptrons: gates, XOR, the DNF construction, separability,
the compiler and learning."""

from __future__ import annotations

import numpy as np

from deltagrad.explain import logic as trace
from deltagrad.logic import (all_functions, compile, from_truth_table, gate,
                             is_linearly_separable, perceptron_learning, to_step_network,
                             train_smooth, truth_table_inputs, verify)


TITLE = "5–6 Logic with perceptrons"


def section(report) -> None:
    s = report.section(TITLE, "chapters 5–6")
    s.heading("5.2–5.3 Gates and XOR")
    rows = []
    for name in ("and", "or", "nand", "nor"):
        net = gate(name)
        rows.append([name.upper(), net.linears[0].weight.data[0].tolist(),
                     float(net.linears[0].bias.data[0]), net.truth_table()[:, -1].tolist()])
    not_gate = gate("not", n=1)
    rows.append(["NOT", [-1.0], float(not_gate.linears[0].bias.data[0]),
                 not_gate.truth_table()[:, -1].tolist()])
    s.table(["gate", "w", "b", "outputs for 00, 01, 10, 11"], rows,
            caption="§5.2: one Heaviside perceptron per gate, the notes' weights")
    s.text("XOR is not linearly separable (Remark 5.1); (OR, NAND) → AND computes it. "
           "The verification list of §5.3 for x = (1, 1):")
    s.code(trace(gate("xor"), [1, 1]).to_text())
    s.heading("6.1–6.3 Composing and generalising")
    parity = from_truth_table(lambda a, b, c: a ^ b ^ c, n=3)
    s.text("§6.3.3: the DNF network of 3-input parity, one minterm neuron per true row:")
    s.code(parity.describe())
    separable2 = sum(bool(is_linearly_separable(t)) for t in all_functions(2))
    separable3 = sum(bool(is_linearly_separable(t)) for t in all_functions(3))
    learned = sum(perceptron_learning(t, epochs=100).converged for t in all_functions(3))
    s.table(["inputs", "functions", "linearly separable (LP)", "learned by the perceptron rule"],
            [[2, 16, separable2, sum(perceptron_learning(t, epochs=100).converged
                                     for t in all_functions(2))],
             [3, 256, separable3, learned]],
            caption="Linear separability decided by a linear program, and Rosenblatt's rule")
    expr = "(x1 and x2) or (x3 xor x4) or not (x5 or x6)"
    sizes = {strategy: compile(expr, strategy) for strategy in ("structure", "dnf", "minimal")}
    s.table(["strategy", "architecture", "hidden neurons", "verified on all rows"],
            [[k, "-".join(map(str, n.sizes)), n.hidden_units, f"{bool(verify(n, expr))} "
              f"({2 ** n.n_inputs})"] for k, n in sizes.items()],
            caption=f"The compiler on `{expr}`")
    table = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    smooth = train_smooth(table, hidden=6, activation="tanh", seed=0, epochs=4000)
    X = truth_table_inputs(3)
    accuracy = float(np.mean((smooth(X).data[:, 0] > 0.5) == table))
    converted = bool(verify(to_step_network(smooth), table))
    s.text(f"Backpropagation learns 3-parity with a 3-6-1 tanh network to {accuracy:.0%}; "
           f"replaced by Heaviside units it still reproduces the table: {converted}.")
