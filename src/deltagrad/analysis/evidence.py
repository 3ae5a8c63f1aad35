"""The evidence procedure (Bishop §5.7, Netlab's ``evidence``): re-estimate the prior
precision(s) α and the noise precision β of a regression network from the Hessian.

The MAP weights minimise β E_D + Σ_k α_k E_Wk with E_D = ½Σ‖y − t‖² and E_Wk = ½‖w‖²_k. With
A = β∇∇E_D + diag(α), the number of well-determined parameters of group k is
γ_k = W_k − α_k Tr_k(A⁻¹) (for one α: γ = Σ λ_i/(λ_i + α), λ_i the eigenvalues of β∇∇E_D),
and the re-estimates are α_k = γ_k / (2E_Wk), β = (NK − γ) / (2E_D). Negative eigenvalues of
β∇∇E_D (the weights are not exactly at a minimum) are counted as zero, as Netlab does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import losses
from ..nn.module import Module
from ..nn.utils import parameters_to_vector
from ..regularizers import ConsistentGaussianPrior, WeightDecay
from .hessian import hessian


@dataclass
class Evidence:
    """New ``alpha`` (float, or one per layer) and ``beta``; ``gamma`` (total) and ``gammas``
    (per group); ``log_evidence`` ln p(D | α, β) at the current weights (Laplace), and W."""

    alpha: float | list
    beta: float
    gamma: float
    gammas: list
    log_evidence: float
    W: int


def _groups(model: Module, prior) -> tuple:
    """``(alphas, masks)``: one precision and one boolean mask over the flat weights per group."""
    params = model.parameters()
    sizes = [p.size for p in params]
    offsets = np.cumsum([0] + sizes)
    index = {id(p): (offsets[i], offsets[i + 1]) for i, p in enumerate(params)}
    W = offsets[-1]
    if isinstance(prior, WeightDecay):
        terms = [(prior.lam, [p for _, p in prior.terms(model)])]
    elif isinstance(prior, ConsistentGaussianPrior):
        terms = [(alpha, [p]) for alpha, p in prior.terms(model)]
    else:
        raise TypeError(f"evidence: prior must be WeightDecay or ConsistentGaussianPrior, "
                        f"got {type(prior).__name__}")
    alphas, masks = [], []
    for alpha, group in terms:
        mask = np.zeros(W, dtype=bool)
        for p in group:
            start, stop = index[id(p)]
            mask[start:stop] = True
        alphas.append(float(alpha))
        masks.append(mask)
    return alphas, masks


def evidence(model: Module, X, T, prior, beta: float | None = None) -> Evidence:
    """One re-estimation of α and β at the model's current (MAP) weights.

    Args:
        prior: ``WeightDecay(α)`` (one group; with ``include_biases=True`` the biases too) or
            ``ConsistentGaussianPrior([α_1, …])`` (one group per layer, biases unpenalised);
            its coefficients are the prior precisions α.
        beta: the current noise precision; default β_ML of the residuals (eq. 2.6).
    """
    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    y = model(X)
    NK = T.size
    two_ED = float(np.sum((y.data - T.reshape(y.shape)) ** 2))
    if beta is None:
        beta = losses.noise_precision(y, T.reshape(y.shape))
    alphas, masks = _groups(model, prior)
    H_D = hessian(model, lambda m: losses.sum_of_squares(m(X), T.reshape(y.shape))).matrix
    w = parameters_to_vector(model.parameters())
    # negative curvature (away from an exact minimum) counts as none, as in Netlab
    lam, V = np.linalg.eigh(beta * H_D)
    A = (V * np.maximum(lam, 0.0)) @ V.T + np.diag(
        sum(a * m for a, m in zip(alphas, masks)).astype(np.float64))
    A_inv = np.linalg.pinv(A, hermitian=True)
    gammas = [float(np.clip(m.sum() - a * np.trace(A_inv[np.ix_(m, m)]), 0.0, m.sum()))
              for a, m in zip(alphas, masks)]
    gamma = float(sum(gammas))
    new_alphas = [g / float(w[m] @ w[m]) for g, m in zip(gammas, masks)]
    new_beta = (NK - gamma) / two_ED
    sign, logdet = np.linalg.slogdet(A)
    E = beta * two_ED / 2 + sum(a * float(w[m] @ w[m]) / 2 for a, m in zip(alphas, masks))
    log_evidence = (-E - 0.5 * logdet + sum(m.sum() / 2 * np.log(a) for a, m in
                                            zip(alphas, masks))
                    + NK / 2 * np.log(beta) - NK / 2 * np.log(2 * np.pi))
    if sign <= 0:
        log_evidence = float("nan")  # A is not positive definite: not at a minimum
    alpha = new_alphas[0] if isinstance(prior, WeightDecay) else new_alphas
    return Evidence(alpha, float(new_beta), gamma, gammas, float(log_evidence), w.size)


def _scaled_prior(prior, alpha, beta):
    """The regulariser of E_D + (α/β) E_W, the MAP objective divided by β."""
    if isinstance(prior, WeightDecay):
        return WeightDecay(alpha / beta, include_biases=prior.include_biases)
    return ConsistentGaussianPrior([a / beta for a in alpha])


def fit_evidence(model: Module, X, T, prior, beta: float = 1.0, cycles: int = 20,
                 tol: float = 1e-3, iterations: int = 1000) -> list:
    """Alternate MAP training (L-BFGS on E_D + (α/β)E_W) and re-estimation of α and β until
    both change by less than ``tol`` (relative). Returns the list of :class:`Evidence` per cycle;
    the model is left at the last MAP weights."""
    from ..optim.minimize import minimize

    X, T = np.asarray(X, dtype=np.float64), np.asarray(T, dtype=np.float64)
    alpha = prior.lam if isinstance(prior, WeightDecay) else list(
        a for _, a in prior.coefficients(model))
    history = []
    for _ in range(cycles):
        reg = _scaled_prior(prior, alpha, beta)
        minimize(model, lambda m, reg=reg: losses.sum_of_squares(m(X), T) + reg(m),
                 method="L-BFGS-B", maxiter=iterations)
        current = WeightDecay(alpha, prior.include_biases) if isinstance(prior, WeightDecay) \
            else ConsistentGaussianPrior(alpha)
        result = evidence(model, X, T, current, beta=beta)
        history.append(result)
        old = np.atleast_1d(alpha).astype(float)
        new = np.atleast_1d(result.alpha).astype(float)
        settled = np.all(np.abs(new - old) <= tol * np.abs(old)) and \
            abs(result.beta - beta) <= tol * beta
        alpha, beta = result.alpha, result.beta
        if settled:
            break
    return history
