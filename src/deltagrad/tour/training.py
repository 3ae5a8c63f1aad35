"""The tour's section for chapter 4: fit() with early stopping on real data, weight decay
against the consistent prior, early stopping ≈ weight decay, batch methods, model selection."""

from __future__ import annotations

import numpy as np

from deltagrad import fit, losses, nn, optim, plot, select
from deltagrad.callbacks import EarlyStopping
from deltagrad.data import load_tabular
from deltagrad.regularizers import ConsistentGaussianPrior, WeightDecay


def section(report) -> None:
    s = report.section("Training, regularisation and early stopping", "chapters 2 and 4")
    Xd, Td = load_tabular("diabetes")
    Xc, labels = load_tabular("breast_cancer")
    Tc = labels[:, None].astype(float)
    epochs = 150 if report.quick else 600
    net = nn.MLP("30-32-1", hidden="tanh", output="sigmoid", rng=0)
    h = fit(net, Xc, Tc, loss="binary_cross_entropy", optimizer="adam", lr=0.01, epochs=epochs,
            batch_size=32, validation_split=0.25, callbacks=[EarlyStopping(patience=15)],
            progress=False)
    s.figure(plot.plot_history(h, title="Breast cancer: 30-32-1, Adam, early stopping"),
             "learning_curves", f"Training and validation error per pattern; training stopped "
             f"at epoch {h.epochs} and kept the weights of epoch {h.restored_epoch} (§4.4.1).")
    val_rows = np.random.default_rng(0).permutation(len(Xc))[:round(0.25 * len(Xc))]
    with_grad_off = net(Xc[val_rows]).data[:, 0] > 0.5
    accuracy = float(np.mean(with_grad_off == Tc[val_rows, 0]))
    s.text(f"Breast cancer (569 patterns): validation accuracy {accuracy:.1%} at the restored "
           f"epoch; the validation error there, {min(h.val_error):.4f}, is the minimum of the "
           "recorded curve.")
    rows = []
    for name, prior in (("none", None), ("WeightDecay(λ = 1)", WeightDecay(1.0)),
                        ("ConsistentGaussianPrior([1, 1])", ConsistentGaussianPrior([1.0, 1.0]))):
        model = nn.MLP("10-16-1", hidden="tanh", rng=0)
        hist = fit(model, Xd, Td, optimizer="lbfgs", epochs=100 if report.quick else 300,
                   validation_split=0.25, regularizer=prior, progress=False)
        rows.append([name, hist.epochs, hist.error[-1], hist.val_error[-1], hist.penalty[-1]])
    s.table(["regulariser", "L-BFGS iterations", "training E/N", "validation E/N",
             "penalty Ω(w)"], rows,
            caption="Diabetes regression (442 patterns, standardised), 10-16-1 tanh")
    methods = []
    for method in ("scg", "cg", "bfgs", "lbfgs"):
        model = nn.MLP("10-8-1", hidden="tanh", rng=1)
        hist = fit(model, Xd, Td, optimizer=method, epochs=40, progress=False)
        monotone = bool(np.all(np.diff(hist.error) <= 1e-12))
        methods.append([method, hist.epochs, hist.error[-1], monotone])
    model = nn.MLP("10-8-1", hidden="tanh", rng=1)
    gd = fit(model, Xd, Td, optimizer="sgd", lr=1e-3, epochs=40, progress=False)
    methods.append(["batch gradient descent", gd.epochs, gd.error[-1],
                    bool(np.all(np.diff(gd.error) <= 1e-12))])
    s.table(["optimiser", "iterations", "training E/N", "monotone"], methods,
            caption="Batch methods on the same problem (§2.4.1): 40 iterations each")
    _early_stopping_vs_decay(s)
    seeds = [0, 1] if report.quick else [0, 1, 2, 3]
    sizes = [1, 2, 4, 8] if report.quick else [1, 2, 4, 8, 16, 32]
    result = select.sweep(lambda p, seed: nn.MLP([10, p["hidden"], 1], hidden="tanh", rng=seed),
                          {"hidden": sizes}, Xd, Td, seeds=seeds,
                          fit_kwargs=dict(optimizer="lbfgs", epochs=100,
                                          validation_split=0.25), n_jobs=2)
    s.figure(result.plot(), "model_selection",
             f"§4.1 model selection on diabetes: validation error against M, {len(seeds)} "
             f"initialisations each; best M = {result.best['params']['hidden']} "
             f"(seed {result.best['seed']}, validation E/N = {result.best['val_error']:.4f}).")
    beta = losses.noise_precision(result.best_model(Xd), Td)
    s.text(f"The noise precision of the selected model (eq. 2.6): β_ML = {beta:.3f}, i.e. a "
           f"residual standard deviation of {1 / np.sqrt(beta):.3f} in standardised units.")


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
             f"w*λ/(λ + α) with α = 1/(ητ) = {alpha:.3g}.")
