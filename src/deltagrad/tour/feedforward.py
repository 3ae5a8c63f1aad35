"""Chapter 1, feed-forward networks: the network function of eq. 1.5 by hand against the
engine, universal approximation (constructed and trained), weight-space symmetries."""

from __future__ import annotations

import math

import numpy as np

from deltagrad import nn, plot
from deltagrad.analysis import (bump_network, canonical_form, equivalent_networks, sup_error,
                                trained_network)

TITLE = "1 Feed-forward networks"


def section(report) -> None:
    s = report.section(TITLE, "chapter 1")
    _network_function(s)
    _universal_approximation(s, report.quick)
    _symmetries(s)


def _network_function(s) -> None:
    s.heading("1.1 The network function")
    net = nn.MLP("3-4-2", hidden="tanh", output="sigmoid", rng=0)
    x = np.array([0.5, -1.0, 2.0])
    (W1, b1), (W2, b2) = [(lin.weight.data, lin.bias.data) for lin in net.linears]
    a = [sum(W1[j, i] * x[i] for i in range(3)) + b1[j] for j in range(4)]
    z = [math.tanh(a_j) for a_j in a]
    y = [1 / (1 + math.exp(-(sum(W2[k, j] * z[j] for j in range(4)) + b2[k]))) for k in range(2)]
    engine = net(x[None]).data[0]
    s.text(f"Example 1.2's 3-4-2 network (tanh hidden units, logistic-sigmoid outputs) has "
           f"(3 × 4) + 4 + (4 × 2) + 2 = 26 adaptive parameters; `nn.MLP(\"3-4-2\")` has "
           f"{net.num_parameters()}. Eq. 1.5 written out as sums, "
           f"y_k = σ(Σ_j w^(2)_kj h(Σ_i w^(1)_ji x_i + w^(1)_j0) + w^(2)_k0), at x = (0.5, −1, 2) "
           f"with the network's random weights gives y = ({y[0]:.6f}, {y[1]:.6f}); the "
           f"engine's forward propagation gives the same to "
           f"{float(np.abs(engine - y).max()):.0e}.")


def _universal_approximation(s, quick: bool) -> None:
    s.heading("1.2 Universal approximation")
    Ms = [10, 20, 50, 100, 200]
    functions = {"sin x": np.sin, "|x − π|": lambda v: abs(v - np.pi),
                 "step at x = 2": lambda v: float(v > 2.0)}
    iterations = 1000  # L-BFGS from random weights, at most (it stops earlier if converged)
    results, rms = {}, {}
    grid = np.linspace(0, 2 * np.pi, 400)[:, None]
    for name, f in functions.items():
        curves = {"M": Ms, "constructed": [sup_error(bump_network(f, M=M), f) for M in Ms]}
        if not quick and name == "|x − π|":  # the theorem is for continuous f
            nets = [trained_network(f, M=M, iterations=iterations) for M in Ms]
            curves["trained from random weights"] = [sup_error(n, f) for n in nets]
            target = np.abs(grid[:, 0] - np.pi)
            rms[name] = [float(np.sqrt(np.mean((n(grid).data[:, 0] - target) ** 2)))
                         for n in nets]
        results[name] = curves
    trained = ""
    if rms:
        trained = _trained_note(results["|x − π|"]["trained from random weights"],
                                rms["|x − π|"], Ms, iterations)
    s.figure(plot.plot_universal_approximation(results), "universal_approximation",
             "§1.2.1: sup-error on [0, 2π] of one-hidden-layer sigmoid networks built from M/2 "
             "bumps with no training; the error falls as 1/M for continuous f. A step is not "
             "continuous, so no network gets below 1/2 at the jump." + trained)
    s.table(["M", *functions], [[M, *[results[n]["constructed"][i] for n in functions]]
                                for i, M in enumerate(Ms)],
            caption="Sup-error of the bump construction")


def _trained_note(sup: list, rms: list, Ms: list, iterations: int) -> str:
    """The caption's sentences on the trained curve, chosen by its numbers."""
    best = int(np.argmin(sup))
    text = (f" Trained from random weights by L-BFGS on 400 points of |x − π| (at most "
            f"{iterations} iterations): sup-error {sup[0]:.3f} at M = {Ms[0]}, "
            f"{sup[best]:.3f} at M = {Ms[best]}, {sup[-1]:.3f} at M = {Ms[-1]}.")
    if sup[-1] > sup[best] and rms[-1] > rms[best]:
        text += (f" It rises again for large M because training, not the network, is the "
                 f"limit: the M = {Ms[-1]} network also fits its own training points worse "
                 f"(RMS {rms[-1]:.1e} against {rms[best]:.1e} at M = {Ms[best]}) — more "
                 "weights, a worse-conditioned problem for the same iterations — while the "
                 "bumps show that a network with error ≈ 1/M exists; the theorem promises "
                 "existence, not that least squares finds it.")
    return text


def _symmetries(s) -> None:
    s.heading("1.3 Weight-space symmetries")
    small = nn.MLP("1-3-1", hidden="tanh", rng=0)
    x = np.linspace(-2, 2, 9)[:, None]
    reference = small(x).data
    networks = list(equivalent_networks(small))
    worst = max(float(np.abs(n(x).data - reference).max()) for n in networks)
    forms = {tuple(np.round(np.concatenate([p.data.ravel() for p in
                                            canonical_form(n).parameters()]), 10))
             for n in networks}
    s.text(f"A 1-3-1 tanh network has M!·2^M = {math.factorial(3) * 8} equivalent weight "
           f"vectors (sign flips §1.3.2, interchanges §1.3.3); deltagrad enumerates "
           f"{len(networks)}, their outputs differ by at most {worst:.1e}, and all map to "
           f"{len(forms)} canonical form.")
