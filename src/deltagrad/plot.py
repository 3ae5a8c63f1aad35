"""Figures (matplotlib, Agg backend, PNG): learning curves, early stopping against weight
decay, validation error against the number of hidden units, kernels and feature maps, and
accuracy under shifts and rotations, and attention heat maps."""

from __future__ import annotations

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError as err:
        raise ImportError("figures need matplotlib: pip install 'deltagrad[plot]'") from err
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _finish(fig, path):
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot_history(history, path=None, title: str | None = None):
    """Training and validation error per pattern against the epoch, log scale, with the best
    epoch (the early-stopping point of §4.4.1) marked."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.error, label="training error E/N")
    if any(np.isfinite(history.val_error)):
        ax.plot(epochs, history.val_error, label="validation error E/N")
    best = history.restored_epoch or history.best_epoch
    if best is not None and any(np.isfinite(history.val_error)):
        ax.axvline(best, color="grey", linestyle="--", linewidth=1)
        ax.plot([best], [history.val_error[best - 1]], "o", color="C1",
                label=f"lowest validation error (epoch {best})")
    if min(history.error) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("error per pattern")
    ax.set_title(title or "Learning curves")
    ax.legend()
    return _finish(fig, path)


def plot_early_stopping_vs_weight_decay(eigenvalues, early, decay, tau, eta, alpha, path=None):
    """The factors w_j/w_j* of the early-stopped solution, 1 − (1 − ηλ_j)^τ (eq. 4.15), and of
    the weight-decay solution, λ_j/(λ_j + α), against the Hessian eigenvalue λ_j (§4.4.3)."""
    plt = _pyplot()
    order = np.argsort(eigenvalues)
    lam = np.asarray(eigenvalues)[order]
    grid = np.geomspace(lam.min(), lam.max(), 200)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    ax.plot(grid, 1 - (1 - eta * grid) ** tau, color="C0", linewidth=1,
            label=f"1 − (1 − ηλ)^τ, η = {eta:g}, τ = {tau}")
    ax.plot(grid, grid / (grid + alpha), color="C1", linewidth=1,
            label=f"λ / (λ + α), α = {alpha:g}")
    ax.plot(lam, np.asarray(early)[order], "o", color="C0", label="early stopping (trained)")
    ax.plot(lam, np.asarray(decay)[order], "s", mfc="none", color="C1",
            label="weight decay (trained)")
    ax.set_xscale("log")
    ax.set_xlabel("Hessian eigenvalue λ_j")
    ax.set_ylabel("w_j / w_j*")
    ax.set_title("Early stopping ≈ weight decay (§4.4.3)")
    ax.legend(fontsize=8)
    return _finish(fig, path)


def plot_sweep(table, path=None, size_key: str = "hidden", score: str = "val_error"):
    """Validation error against the number of hidden units: one dot per seed, a line through
    the best of each size (the model-selection procedure of §4.1)."""
    plt = _pyplot()
    sizes = sorted({row["params"][size_key] for row in table})
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    xs = [row["params"][size_key] for row in table]
    ax.plot(xs, [row[score] for row in table], "o", alpha=0.6, label="one initialisation")
    best = [min(row[score] for row in table if row["params"][size_key] == m) for m in sizes]
    ax.plot(sizes, best, "-", color="C1", label="best over seeds")
    ax.set_xlabel(f"{size_key} (M)")
    ax.set_ylabel("validation error per pattern")
    ax.set_title("Model selection over M and random initialisations (§4.1)")
    ax.legend()
    return _finish(fig, path)


def plot_spectrum(eigenvalues, path=None, title: str | None = None):
    """The Hessian's eigenvalues λ_i, sorted, on a symmetric log scale (negative ones show a
    saddle; eq. 2.19 needs all λ_i > 0)."""
    plt = _pyplot()
    values = np.sort(np.asarray(eigenvalues, dtype=float))
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    colours = np.where(values > 0, "C0", "C3")
    ax.scatter(np.arange(1, values.size + 1), values, s=10, c=colours)
    ax.set_yscale("symlog", linthresh=max(1e-6, float(np.min(np.abs(values[values != 0])))
                  if np.any(values != 0) else 1e-6))
    ax.set_xlabel("index i (sorted)")
    ax.set_ylabel("eigenvalue λ_i of H")
    positive = values[values > 0]
    kappa = positive[-1] / positive[0] if positive.size and values[0] > 0 else float("inf")
    verdict = "" if values[0] > 0 else ", not positive definite"
    ax.set_title(title or f"Hessian eigen-spectrum (κ = {kappa:.3g}{verdict})")
    return _finish(fig, path)


def plot_ravine(result, path=None):
    """Contours of ½wᵀAw with the gradient-descent, Newton and conjugate-gradient paths."""
    plt = _pyplot()
    paths = {"gradient descent": result.gradient_descent, "Newton": result.newton,
             "conjugate gradients": result.conjugate_gradients}
    points = np.vstack(list(paths.values()))
    span = np.abs(points).max() * 1.1
    grid = np.linspace(-span, span, 300)
    W1, W2 = np.meshgrid(grid, grid)
    E = result.error(np.stack([W1, W2], axis=-1))
    fig, ax = plt.subplots(figsize=(6.4, 5.0))
    ax.contour(W1, W2, E, levels=np.geomspace(E.max() * 1e-4, E.max(), 14), colors="0.75",
               linewidths=0.7)
    styles = {"gradient descent": ("C0", ".-", 0.8), "Newton": ("C1", "o-", 2),
              "conjugate gradients": ("C2", "s-", 2)}
    for name, path_points in paths.items():
        colour, marker, width = styles[name]
        ax.plot(path_points[:, 0], path_points[:, 1], marker, color=colour, linewidth=width,
                markersize=3 if name == "gradient descent" else 6,
                label=f"{name}: {len(path_points) - 1} step"
                      + ("" if len(path_points) == 2 else "s"))
    ax.plot([0], [0], "k*", markersize=12, label="minimum w*")
    ax.set_aspect("equal")
    ax.set_xlabel("w₁")
    ax.set_ylabel("w₂")
    ax.set_title(f"The ravine (§2.3.4), κ = {result.kappa:g}")
    ax.legend(loc="upper right", fontsize=8)
    return _finish(fig, path)


def plot_universal_approximation(results: dict, path=None):
    """Sup-error against M, one panel per function: ``results[name] = {"M": [...],
    "constructed": [...], <label>: [...], ...}``; every curve other than ``M`` is drawn, the
    constructed (bump) one as "bumps, no training", the others under their key."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.8), squeeze=False)
    styles = ["o-", "s--", "^:", "d-."]
    for ax, (name, curves) in zip(axes[0], results.items()):
        labelled = [(k, v) for k, v in curves.items() if k != "M"]
        for style, (key, values) in zip(styles, labelled):
            ax.loglog(curves["M"], values, style,
                      label="bumps, no training" if key == "constructed" else key)
        ax.set_title(name)
        ax.set_xlabel("hidden units M")
        ax.set_ylabel("sup |y − f|")
        ax.legend(fontsize=8)
    fig.suptitle("Universal approximation (§1.2.1)")
    return _finish(fig, path)


def plot_image_grid(rows: dict, path=None, title: str | None = None, cmap: str = "gray"):
    """Rows of small images with captions: ``{row label: [(caption, 2-D array), ...]}``.

    Kernels and feature maps (chapter 7) share one colour scale per row, symmetric about 0
    when the row has negative values (then blue is negative, red positive).
    """
    plt = _pyplot()
    n_cols = max(len(items) for items in rows.values())
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(1.45 * n_cols + 0.6, 1.65 * len(rows)),
                             squeeze=False)
    for r, (label, items) in enumerate(rows.items()):
        values = np.concatenate([np.ravel(image) for _, image in items])
        signed = values.min() < 0
        limit = float(np.abs(values).max()) or 1.0
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(items):
                ax.axis("off")
                continue
            caption, image = items[c]
            ax.imshow(image, cmap="RdBu_r" if signed else cmap,
                      vmin=-limit if signed else 0.0, vmax=limit, interpolation="nearest")
            ax.set_title(caption, fontsize=8)
        axes[r, 0].set_ylabel(label, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return _finish(fig, path)


def plot_invariance(result, path=None):
    """Test accuracy of each model of the invariance experiment against the shift (pixels)
    and against the rotation (degrees)."""
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.8), sharey=True)
    for k, (name, acc) in enumerate(result.accuracy.items()):
        style = dict(marker="o", color=f"C{k}", label=name,
                     linestyle="--" if name.startswith("cnn") else "-")
        left.plot([0, 1, 2], [acc["clean"], acc["shift 1"], acc["shift 2"]], **style)
        right.plot([0, 10, 20], [acc["clean"], acc["rotate 10°"], acc["rotate 20°"]], **style)
    left.set_xlabel("shift (pixels, mean of up/down/left/right)")
    right.set_xlabel("rotation (degrees, mean of ±)")
    left.set_ylabel("test accuracy")
    left.set_xticks([0, 1, 2])
    right.set_xticks([0, 10, 20])
    for ax in (left, right):
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    right.legend(fontsize=8, loc="lower left")
    fig.suptitle("Which road to invariance holds when the digit moves? (§4.5.2)", fontsize=10)
    return _finish(fig, path)


def plot_attention(maps: dict, labels_in, labels_out=None, path=None, title: str | None = None):
    """Attention heat maps side by side: ``maps`` maps a title to weights ``(T_out, T_in)``
    (row n: how much output n attends to each input m, summing to 1). ``labels_in`` and
    ``labels_out`` name the tokens on the axes."""
    plt = _pyplot()
    labels_out = labels_in if labels_out is None else labels_out
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps) + 1.0, 3.9), squeeze=False,
                             layout="constrained")
    for ax, (name, weights) in zip(axes[0], maps.items()):
        image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0)
        ax.set_xticks(range(len(labels_in)), [str(t) for t in labels_in], fontsize=7)
        ax.set_yticks(range(len(labels_out)), [str(t) for t in labels_out], fontsize=7)
        ax.set_xlabel("attends to input token m")
        ax.set_ylabel("output position n")
        ax.set_title(name, fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8, label="a_nm")
    if title:
        fig.suptitle(title)
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
