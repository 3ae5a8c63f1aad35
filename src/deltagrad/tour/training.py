"""Chapter 2, network training: the error functions of §2.1 on real data with their
probabilistic reading and the §2.1.3 example, batch optimisation, the quadratic approximation
and the Hessian at a minimum."""

from __future__ import annotations

import numpy as np

from deltagrad import fit, losses, nn, optim, plot
from deltagrad.analysis import hessian, is_local_minimum, ravine, spectrum
from deltagrad.callbacks import EarlyStopping
from deltagrad.data import load_digits_split, load_tabular
from deltagrad.exercises import pretty
from deltagrad.explain import question
from deltagrad.regularizers import ConsistentGaussianPrior

from deltagrad.tour import curves

TITLE = "2 Network training"


def section(report) -> None:
    s = report.section(TITLE, "chapter 2")
    s.heading("2.1 The error functions and their probabilistic reading")
    s.text("Each error function of §2.1 is a negative log-likelihood: the output unit and the "
           "error are chosen together so that y means something — the mean of a Gaussian "
           "(regression), a probability (classification). Three networks on real data, each "
           "trained on 75% of its patterns with early stopping on a validation fifth of those "
           "(Adam, stopped when the validation error has not improved for 20 epochs), then "
           "read as the probability model they claim to be on the held-out 25%.")
    rows, panels = [], []
    for case in (_regression, _binary, _multiclass):
        row, panel = case(report.quick)
        rows.append(row)
        panels.append(panel)
    s.table(["task (data)", "output, error", "epochs (stopped by)", "∂E/∂b_k = Σ_n (y_nk − t_nk)",
             "probabilistic reading, held out"], rows,
            caption="§2.1 on real data. The fourth column checks Prop. 2.3/2.6 on the trained "
                    "network: the engine's gradient for each output bias (∂a_k/∂b_k = 1) "
                    "against the summed errors y − t; the largest difference is shown")
    s.figure(_reading_figure(panels), "error_functions",
             "Left: held-out residuals t − y of the regression net against the Gaussian "
             "N(0, 1/β_ML) that eq. 2.1 claims (β_ML from the training residuals, eq. 2.6). "
             "Middle and right: reliability of y as a probability — held-out patterns binned "
             "by the predicted probability (fifths of [0, 1]; the number of patterns beside each "
             "point), the observed frequency of the class in each bin; a calibrated model lies "
             "on the diagonal.")
    _worked_example(s)
    s.heading("2.3 The quadratic approximation and the Hessian")
    _hessian(s)
    kappa = 25.0
    r = ravine(kappa)
    s.figure(plot.plot_ravine(r), "ravine",
             f"§2.3.4: on a ravine with κ = {kappa:g}, gradient descent (best fixed rate) needs "
             f"{r.gd_steps} steps to 10⁻⁶, Newton 1, conjugate gradients 2 (each run to "
             "convergence).")
    s.heading("2.2 and 2.4 Iterative optimisation: batch methods and gradient descent")
    _batch_methods(s)


def _split(n: int, seed: int = 0):
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(0.75 * n))
    return order[:cut], order[cut:]


def _train(net, X, T, loss: str, quick: bool):
    stop = EarlyStopping(patience=20)
    h = fit(net, X, T, loss=loss, optimizer="adam", lr=0.003, epochs=60 if quick else 400,
            batch_size=32, validation_split=0.2, callbacks=[stop], progress=False)
    stopped = (f"{h.epochs} (validation, kept epoch {h.restored_epoch})"
               if h.epochs < (60 if quick else 400) else f"{h.epochs} (the cap)")
    return stopped


def _bias_check(net, X, T, loss) -> float:
    """max_k |∂E/∂b_k − Σ_n (y_nk − t_nk)| for the output layer's biases."""
    net.zero_grad()
    y = net(X)
    loss(y, T).backward()
    return float(np.abs(net.linears[-1].bias.grad - (y.data - T).sum(axis=0)).max())


def _regression(quick: bool):
    X, T = load_tabular("diabetes")
    train, test = _split(len(X))
    net = nn.MLP("10-8-1", hidden="tanh", output="identity", rng=0)
    stopped = _train(net, X[train], T[train], "sum_of_squares", quick)
    beta = losses.noise_precision(net(X[train]), T[train])
    residual = (T[test] - net(X[test]).data)[:, 0]
    inside = float(np.mean(np.abs(residual) <= 1.96 / np.sqrt(beta)))
    check = _bias_check(net, X[train], T[train], losses.sum_of_squares)
    reading = (f"β_ML = {beta:.2f} (eq. 2.6), so p(t|x) = N(t | y, 1/β) puts 95% of targets "
               f"within ±1.96/√β = ±{1.96 / np.sqrt(beta):.2f}; held out: {inside:.1%}")
    return (["regression (diabetes, 442)", "identity, sum-of-squares (2.3)", stopped,
             f"{check:.1e}", reading], ("gaussian", residual, beta))


def _binary(quick: bool):
    X, labels = load_tabular("breast_cancer")
    T = labels[:, None].astype(float)
    train, test = _split(len(X))
    net = nn.MLP("30-8-1", hidden="tanh", output="sigmoid", rng=0)
    stopped = _train(net, X[train], T[train], "binary_cross_entropy", quick)
    y = net(X[test]).data[:, 0]
    check = _bias_check(net, X[train], T[train], losses.binary_cross_entropy)
    accuracy = float(np.mean((y > 0.5) == labels[test]))
    reading = (f"y = p(C₁|x) (eq. 2.9): accuracy {accuracy:.1%}, mean |y − frequency| over "
               f"the bins {_calibration_gap(y, labels[test]):.3f}")
    return (["binary (breast cancer, 569)", "logistic sigmoid, cross-entropy", stopped,
             f"{check:.1e}", reading], ("binary", y, labels[test]))


def _multiclass(quick: bool):
    (X, labels), (X_test, labels_test) = load_digits_split()
    T = np.eye(10)[labels]
    net = nn.MLP("64-32-10", hidden="tanh", output="softmax", rng=0)
    stopped = _train(net, X, T, "cross_entropy", quick)
    p = net(X_test).data
    confidence = p.max(axis=1)
    right = p.argmax(axis=1) == labels_test
    check = _bias_check(net, X, T, losses.cross_entropy)
    reading = (f"y_k = p(C_k|x): accuracy {right.mean():.1%}, mean y of the chosen class "
               f"{confidence.mean():.3f}, gap over the bins "
               f"{_calibration_gap(confidence, right):.3f}")
    return (["K classes (digits, 1,797)", "softmax, cross-entropy", stopped, f"{check:.1e}",
             reading], ("multiclass", confidence, right))


def _bins(p, outcome):
    """(mean predicted, observed frequency, count) for each non-empty fifth of [0, 1]."""
    edges = np.linspace(0, 1, 6)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, len(edges) - 2)
    return [(float(p[which == b].mean()), float(np.mean(outcome[which == b])),
             int(np.sum(which == b))) for b in range(len(edges) - 1) if np.any(which == b)]


def _calibration_gap(p, outcome) -> float:
    """The pattern-weighted mean |predicted − observed| over the bins."""
    bins = _bins(p, np.asarray(outcome, float))
    return sum(n * abs(m - f) for m, f, n in bins) / sum(n for _, _, n in bins)


def _reading_figure(panels):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
    _, residual, beta = panels[0]
    grid = np.linspace(residual.min(), residual.max(), 200)
    axes[0].hist(residual, bins=20, density=True, color="0.75", label="held-out t − y")
    axes[0].plot(grid, np.sqrt(beta / (2 * np.pi)) * np.exp(-beta * grid ** 2 / 2), "tab:blue",
                 label=f"N(0, 1/β), β = {beta:.2f}")
    axes[0].set_title("regression: t ~ N(y, 1/β)")
    axes[0].legend(fontsize=8)
    for ax, (kind, p, outcome), title in zip(axes[1:], panels[1:],
                                             ("binary: y = p(C₁|x)", "digits: max_k y_k")):
        bins = _bins(p, np.asarray(outcome, float))
        ax.plot([0, 1], [0, 1], ":", color="0.5", label="calibrated")
        ax.plot([m for m, _, _ in bins], [f for _, f, _ in bins], "o-", color="tab:green",
                label="held out")
        for m, f, n in bins:
            ax.annotate(str(n), (m, f), textcoords="offset points", xytext=(4, -10), fontsize=7)
        ax.set_xlabel("predicted probability" if kind == "binary" else "predicted confidence")
        ax.set_ylabel("observed frequency")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _worked_example(s) -> None:
    example = question("2.1.3").to_dict()
    s.text("§2.1.3, the notes' numerical example (D = 2, M = 1, tanh hidden unit, sigmoid "
           "output, cross-entropy), by the tracer `deltagrad.explain`:")
    s.table(["quantity", "deltagrad", "notes"],
            [[pretty("a^(1)_1"), example["a^(1)_1"], "0.1"],
             [pretty("z^(1)_1"), example["z^(1)_1"], "0.09967"],
             [pretty("y_1"), example["y_1"], "0.450"],
             ["E", example["E"], "0.7985 (from y rounded to 0.450)"]],
            caption="§2.1.3: binary classification, one pattern")


def _batch_methods(s) -> None:
    Xd, Td = load_tabular("diabetes")
    rows = []
    for method in ("scg", "cg", "bfgs", "lbfgs"):
        hist = fit(nn.MLP("10-8-1", hidden="tanh", rng=1), Xd, Td, optimizer=method,
                   epochs=40, progress=False)
        rows.append([method, hist.epochs, hist.error[-1],
                     bool(np.all(np.diff(hist.error) <= 1e-12)),
                     curves.note(hist.error, "iterations")])
    gd = fit(nn.MLP("10-8-1", hidden="tanh", rng=1), Xd, Td, optimizer="sgd", lr=1e-3,
             epochs=40, progress=False)
    rows.append(["batch gradient descent (2.20)", gd.epochs, gd.error[-1],
                 bool(np.all(np.diff(gd.error) <= 1e-12)), curves.note(gd.error, "iterations")])
    s.table(["optimiser", "iterations", "training E/N", "monotone", "curve"], rows,
            caption="Batch methods on diabetes (10-8-1 tanh), 40 iterations each from the same "
                    "weights: a race at equal budget (§2.2.3), so not every curve has "
                    "flattened")


def _hessian(s) -> None:
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
             f"The exact Hessian (double backward) at the minimum found by trust-ncg, run to "
             f"convergence: ‖∇Ẽ‖ = {check.gradient_norm:.2e}, λ_min = "
             f"{check.min_eigenvalue:.3g}, λ_max = {check.max_eigenvalue:.3g}; local minimum "
             f"by eq. 2.19: {check.is_minimum}.")
