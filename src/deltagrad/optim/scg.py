"""Scaled conjugate gradients (Møller 1993), the batch optimiser of Netlab's ``scg``.

Conjugate directions as in CG, but instead of a line search the step length comes from a
finite-difference estimate of the curvature along the direction, d·(∇E(w + σd) − ∇E(w))/σ, made
positive by a Levenberg–Marquardt scale λ that grows when the quadratic model predicts badly.
A step is taken only when it lowers the error, so the error decreases monotonically.
"""

from __future__ import annotations

import numpy as np

SIGMA0 = 1e-4
LAMBDA_MIN, LAMBDA_MAX = 1e-15, 1e100


def scg(fun, x0, maxiter: int = 1000, gtol: float = 1e-5, xtol: float = 1e-10,
        ftol: float = 1e-12, callback=None):
    """Minimise ``fun`` by scaled conjugate gradients.

    Args:
        fun: ``fun(x) -> (f, grad)`` for a float64 vector ``x``.
        x0: the starting point.
        maxiter: the most iterations (each costs one or two gradient evaluations).
        gtol: stop when ‖∇E‖∞ ≤ gtol.
        xtol, ftol: stop when a successful step moves every weight by less than ``xtol`` and
            changes the error by less than ``ftol`` (Netlab's two criteria).
        callback: ``callback(OptimizeResult(x=..., fun=...))`` after every successful step;
            raising ``StopIteration`` ends the optimisation.

    Returns:
        scipy's ``OptimizeResult`` (x, fun, jac, nit, nfev, njev, success, message).
    """
    from scipy.optimize import OptimizeResult  # here: scipy.optimize is slow to import

    x = np.array(x0, dtype=np.float64)
    f_old, g_new = fun(x)
    nfev = njev = 1
    f_now, g_old = f_old, g_new
    d = -g_new
    success, n_success, lam = True, 0, 1.0
    mu = kappa = theta = 0.0
    message, converged = "maximum number of iterations reached", False
    nit = 0
    while nit < maxiter:
        nit += 1
        if success:  # curvature along d from a finite difference of gradients
            mu = d @ g_new
            if mu >= 0:
                d = -g_new
                mu = d @ g_new
            kappa = d @ d
            if kappa < np.finfo(float).eps:
                message, converged = "the search direction vanished", True
                break
            sigma = SIGMA0 / np.sqrt(kappa)
            _, g_plus = fun(x + sigma * d)
            njev += 1
            theta = d @ (g_plus - g_new) / sigma
        delta = theta + lam * kappa  # scaled curvature, forced positive
        if delta <= 0:
            delta = lam * kappa
            lam = lam - theta / kappa
        alpha = -mu / delta
        x_new = x + alpha * d
        f_new, g_candidate = fun(x_new)
        nfev += 1
        njev += 1
        comparison = 2 * (f_new - f_old) / (alpha * mu)  # actual / predicted reduction
        if not np.isfinite(f_new):
            comparison = -np.inf  # a step into overflow: shrink, as for a bad prediction
        success = comparison >= 0
        if success:
            step = np.max(np.abs(alpha * d))
            x, f_now, g_old, g_new = x_new, f_new, g_new, g_candidate
            n_success += 1
            f_change, f_old = abs(f_new - f_old), f_new
            try:
                if callback is not None:
                    callback(OptimizeResult(x=x.copy(), fun=f_now))
            except StopIteration:
                message = "stopped by the callback"
                break
            if np.max(np.abs(g_new)) <= gtol:
                message, converged = "the gradient norm is below gtol", True
                break
            if step < xtol and f_change < ftol:
                message, converged = "the step and the error change are below xtol and ftol", True
                break
        if comparison < 0.25:
            lam = min(4 * lam, LAMBDA_MAX)
        if comparison > 0.75:
            lam = max(0.5 * lam, LAMBDA_MIN)
        if n_success == x.size:  # restart with steepest descent every W successes
            d, n_success = -g_new, 0
        elif success:
            beta = (g_old - g_new) @ g_new / mu
            d = beta * d - g_new
    return OptimizeResult(x=x, fun=f_now, jac=g_new, nit=nit, nfev=nfev, njev=njev,
                          success=converged, status=0 if converged else 1, message=message)
