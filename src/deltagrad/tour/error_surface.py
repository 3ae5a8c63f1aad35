"""The tour's section for chapters 1–2: the Hessian of a trained network, the ravine,
weight-space symmetries and universal approximation."""

from __future__ import annotations

import math

import numpy as np

from deltagrad import losses, nn, optim, plot
from deltagrad.analysis import (bump_network, canonical_form, equivalent_networks, hessian,
                                is_local_minimum, ravine, spectrum, sup_error, trained_network)
from deltagrad.data import load_tabular
from deltagrad.regularizers import ConsistentGaussianPrior


def section(report) -> None:
    s = report.section("The error surface, symmetries and universal approximation",
                       "chapters 1–2")
    X, T = load_tabular("diabetes")
    net = nn.MLP("10-6-1", hidden="tanh", rng=0)
    prior = ConsistentGaussianPrior([1.0, 1.0])

    def objective(m):
        return losses.sum_of_squares(m(X), T) + prior(m)

    optim.minimize(net, objective, "trust-ncg", tol=1e-9, maxiter=300)
    H = hessian(net, objective)
    spec = spectrum(H)
    check = is_local_minimum(net, objective, tol=1e-5)
    s.figure(plot.plot_spectrum(spec.eigenvalues,
                                title=f"Hessian of a 10-6-1 net on diabetes (W = "
                                      f"{len(H.names)}, κ = {spec.condition_number:.3g})"),
             "hessian_spectrum",
             f"The exact Hessian (double backward) at the minimum found by trust-ncg: "
             f"‖∇Ẽ‖ = {check.gradient_norm:.2e}, λ_min = {check.min_eigenvalue:.3g}, "
             f"λ_max = {check.max_eigenvalue:.3g}; local minimum by eq. 2.19: "
             f"{check.is_minimum}.")
    kappa = 25.0
    r = ravine(kappa)
    s.figure(plot.plot_ravine(r), "ravine",
             f"§2.3.4: on a ravine with κ = {kappa:g}, gradient descent (best fixed rate) needs "
             f"{r.gd_steps} steps to 10⁻⁶, Newton 1, conjugate gradients 2.")
    small = nn.MLP("1-3-1", hidden="tanh", rng=0)
    x = np.linspace(-2, 2, 9)[:, None]
    reference = small(x).data
    networks = list(equivalent_networks(small))
    worst = max(float(np.abs(n(x).data - reference).max()) for n in networks)
    forms = {tuple(np.round(np.concatenate([p.data.ravel() for p in
                                            canonical_form(n).parameters()]), 10))
             for n in networks}
    s.text(f"§1.3: a 1-3-1 tanh network has M!·2^M = {math.factorial(3) * 8} equivalent weight "
           f"vectors; deltagrad enumerates {len(networks)}, their outputs differ by at most "
           f"{worst:.1e}, and all map to {len(forms)} canonical form.")
    Ms = [10, 20, 50, 100, 200]
    functions = {"sin x": np.sin, "|x − π|": lambda v: abs(v - np.pi),
                 "step at x = 2": lambda v: float(v > 2.0)}
    budget = {"random": 300, "bumps": 100}  # L-BFGS iterations: the section stays under a minute
    results = {}
    for name, f in functions.items():
        curves = {"M": Ms, "constructed": [sup_error(bump_network(f, M=M), f) for M in Ms]}
        if not report.quick and name != "step at x = 2":  # the theorem is for continuous f
            curves["trained from random weights"] = [
                sup_error(trained_network(f, M=M, iterations=budget["random"]), f) for M in Ms]
            curves["trained from the bumps"] = [
                sup_error(trained_network(f, M=M, iterations=budget["bumps"], start="bumps"), f)
                for M in Ms]
        results[name] = curves
    trained = "" if report.quick else (
        f" Trained by L-BFGS on 400 points ({budget['random']} iterations from random weights, "
        f"{budget['bumps']} from the bumps — the budget of this page, not convergence): from "
        "random weights 10 units already fit sin x closely, but the sup-error of |x − π| stays "
        "at its kink, which least squares barely weighs and which needs ever larger weights; "
        "started from the bumps, training keeps their 1/M decrease. The theorem is about what "
        "networks exist, which the construction shows; training finds what it can.")
    s.figure(plot.plot_universal_approximation(results), "universal_approximation",
             "§1.2.1: sup-error on [0, 2π] of one-hidden-layer sigmoid networks built from M/2 "
             "bumps with no training; the error falls as 1/M for continuous f. A step is not "
             "continuous, so no network gets below 1/2 at the jump." + trained)
    s.table(["M", *functions], [[M, *[results[n]["constructed"][i] for n in functions]]
                                for i, M in enumerate(Ms)],
            caption="Sup-error of the bump construction")
