"""Chapter 4, regularisation and invariance: early stopping with fit() on real data, weight
decay against the consistent prior, early stopping ≈ weight decay, model selection, and the
four roads to invariance of §4.5 on shifted and rotated digits."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from deltagrad import fit, losses, nn, optim, plot, select
from deltagrad.analysis import invariance
from deltagrad.callbacks import EarlyStopping
from deltagrad.data import load_tabular
from deltagrad.plot import plot_invariance
from deltagrad.regularizers import ConsistentGaussianPrior, WeightDecay

from deltagrad.tour import curves

TITLE = "4 Regularisation and invariance"


def section(report) -> None:
    s = report.section(TITLE, "chapter 4")
    Xd, Td = load_tabular("diabetes")
    s.heading("4.1 How many hidden units: model selection")
    _model_selection(s, Xd, Td, report.quick)
    s.heading("4.1.1–4.3 Weight decay and the consistent prior")
    _priors(s, Xd, Td, report.quick)
    s.heading("4.4 Early stopping")
    _early_stopping(s, report.quick)
    _early_stopping_vs_decay(s)
    s.heading("4.5 Invariance: four roads compared on moved digits")
    _invariance(s, invariance_result(report))


def invariance_result(report):
    """The six models of §4.5.2, trained once per report (chapter 7 shows the CNN's filters):
    each until its curve has flattened, the augmented ones longer, as they see new patterns at
    every presentation."""
    if "invariance" not in report.cache:
        with threadpool_limits(1):  # small matrix products: one BLAS thread is the fastest
            report.cache["invariance"] = invariance.run(
                epochs=3 if report.quick else 20, augmented_epochs=3 if report.quick else 80,
                train_size=400 if report.quick else None)
    return report.cache["invariance"]


def _early_stopping(s, quick: bool) -> None:
    Xc, labels = load_tabular("breast_cancer")
    Tc = labels[:, None].astype(float)
    net = nn.MLP("30-32-1", hidden="tanh", output="sigmoid", rng=0)
    h = fit(net, Xc, Tc, loss="binary_cross_entropy", optimizer="adam", lr=0.01,
            epochs=150 if quick else 600, batch_size=32, validation_split=0.25,
            callbacks=[EarlyStopping(patience=15)], progress=False)
    s.figure(plot.plot_history(h, title="Breast cancer: 30-32-1, Adam, early stopping"),
             "learning_curves", f"Training and validation error per pattern; training stopped "
             f"at epoch {h.epochs}, 15 epochs after the validation minimum, and kept the "
             f"weights of epoch {h.restored_epoch} (§4.4.1). The training curve: "
             f"{curves.note(h.error)}; early stopping does not wait for it, the validation curve "
             "has turned up.")
    val_rows = np.random.default_rng(0).permutation(len(Xc))[:round(0.25 * len(Xc))]
    accuracy = float(np.mean((net(Xc[val_rows]).data[:, 0] > 0.5) == Tc[val_rows, 0]))
    s.text(f"Breast cancer (569 patterns): validation accuracy {accuracy:.1%} at the restored "
           f"epoch; the validation error there, {min(h.val_error):.4f}, is the minimum of the "
           "recorded curve.")


def _priors(s, Xd, Td, quick: bool) -> None:
    rows = []
    for name, prior in (("none", None), ("WeightDecay(λ = 1)", WeightDecay(1.0)),
                        ("ConsistentGaussianPrior([1, 1])", ConsistentGaussianPrior([1.0, 1.0]))):
        model = nn.MLP("10-16-1", hidden="tanh", rng=0)
        hist = fit(model, Xd, Td, optimizer="lbfgs", epochs=100 if quick else 300,
                   validation_split=0.25, regularizer=prior, progress=False)
        rows.append([name, hist.epochs, hist.error[-1], hist.val_error[-1], hist.penalty[-1],
                     curves.note(np.asarray(hist.error) + np.asarray(hist.penalty), "iterations")])
    s.table(["regulariser", "L-BFGS iterations", "training E/N", "validation E/N",
             "penalty Ω(w)", "Ẽ = E + Ω"], rows,
            caption="Diabetes regression (442 patterns, standardised), 10-16-1 tanh")


def _early_stopping_vs_decay(s) -> None:
    """§4.4.3 on an exactly quadratic error: both factors against the eigenvalues."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6)) * np.geomspace(0.05, 2.0, 6)
    T = (X @ rng.normal(size=6) + 0.1 * rng.normal(size=40))[:, None]
    lam, U = np.linalg.eigh(X.T @ X)
    w_star = np.linalg.solve(X.T @ X, X.T @ T[:, 0])
    eta, tau = 0.9 / lam.max(), 60
    alpha = 1 / (eta * tau)
    layer = nn.Linear(6, 1, bias=False)
    layer.weight.data[...] = 0.0
    fit(layer, X, T, optimizer=optim.SGD(layer.parameters(), lr=eta), epochs=tau,
        progress=False)
    decayed = nn.Linear(6, 1, bias=False)
    prior = WeightDecay(alpha)
    optim.minimize(decayed, lambda m: losses.sum_of_squares(m(X), T) + prior(m), "trust-ncg",
                   tol=1e-12)
    star = U.T @ w_star
    early = (U.T @ layer.weight.data[0]) / star
    decay = (U.T @ decayed.weight.data[0]) / star
    s.figure(plot.plot_early_stopping_vs_weight_decay(lam, early, decay, tau, eta, alpha),
             "early_stopping_vs_weight_decay",
             f"§4.4.3: after τ = {tau} steps of batch gradient descent the weights along each "
             "Hessian eigenvector are w*[1 − (1 − ηλ)^τ] (eq. 4.15), like weight decay's "
             f"w*λ/(λ + α) with α = 1/(ητ) = {alpha:.3g} (weight decay minimised to "
             "convergence; early stopping stopped at τ on purpose).")


def _model_selection(s, Xd, Td, quick: bool) -> None:
    seeds = [0, 1] if quick else [0, 1, 2, 3]
    sizes = [1, 2, 4, 8] if quick else [1, 2, 4, 8, 16, 32]
    kwargs = dict(optimizer="lbfgs", epochs=100, validation_split=0.25)
    result = select.sweep(lambda p, seed: nn.MLP([10, p["hidden"], 1], hidden="tanh", rng=seed),
                          {"hidden": sizes}, Xd, Td, seeds=seeds, fit_kwargs=kwargs, n_jobs=2)
    best = result.best["params"]["hidden"]
    linear = fit(nn.MLP("10-1", rng=0), Xd, Td, progress=False, **kwargs)
    s.figure(result.plot(), "model_selection",
             f"§4.1 model selection on diabetes: validation error against M, {len(seeds)} "
             f"initialisations each (L-BFGS, at most 100 iterations, which the small networks "
             f"use up only when they overfit); best M = {best} "
             f"(seed {result.best['seed']}, validation E/N = {result.best['val_error']:.4f}).")
    variance = float(np.var(Td))
    s.text(f"Why so few units win: diabetes is nearly linear in its ten features. A linear "
           f"model (no hidden layer, the same split) reaches validation E/N = "
           f"{linear.val_error[-1]:.4f} against {result.best['val_error']:.4f} for the best "
           f"network, and explains {1 - 2 * linear.val_error[-1] / variance:.0%} of the held-out "
           "variance; what remains looks like noise to every model here, so each unit beyond "
           "the first mostly fits the noise of 331 training patterns.")
    beta = losses.noise_precision(result.best_model(Xd), Td)
    s.text(f"The noise precision of the selected model (eq. 2.6): β_ML = {beta:.3f}, i.e. a "
           f"residual standard deviation of {1 / np.sqrt(beta):.3f} in standardised units.")


def _invariance(s, result) -> None:
    s.text(f"§4.5.2 on real digits padded to 12×12: six classifiers trained on "
           f"{result.train_size} digits with Adam (learning rate 0.005 falling along a half "
           f"cosine), then tested on the 360 test digits and on shifted and rotated copies. "
           f"mlp+aug and cnn+aug (road 1) see each pattern shifted by whole pixels (≤ 2) and "
           f"rotated (≤ 10°) afresh at every presentation, so they train "
           f"{result.augmented_epochs} epochs against {result.epochs} for the others; "
           "mlp+tangent (road 2) penalises the exact J·τ for shifts and rotation; hu (road 3) "
           "sees only Hu's seven moments; the CNN (road 4) shares its weights across places "
           "and pools.")
    acc = result.accuracy
    s.table(["model"] + list(invariance.CONDITIONS),
            [[name] + [f"{100 * a[c]:.1f}%" for c in invariance.CONDITIONS]
             for name, a in acc.items()],
            caption="Test accuracy, clean and under shifts (mean of four directions) and "
                    "rotations (mean of both senses)")
    pairs = [(twin, twin + "+aug") for twin in ("mlp", "cnn") if twin + "+aug" in acc]
    s.text("Augmentation trained to convergence keeps the clean accuracy and buys the "
           "shifts: " + "; ".join(
               f"{aug} is {100 * (acc[aug]['clean'] - acc[twin]['clean']):+.1f} points on clean "
               f"digits and {100 * (acc[aug]['shift 2'] - acc[twin]['shift 2']):+.1f} under a "
               f"2-pixel shift against {twin}" for twin, aug in pairs) + ". Hu's moments are "
           "exactly shift-invariant but keep too little of the digit for a good clean score; "
           "rotation by 20°, beyond the 10° the augmented models saw, costs them all.")
    s.figure(plot_invariance(result), "invariance",
             "Accuracy against shift and rotation for the four roads to invariance")
