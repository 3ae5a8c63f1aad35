"""The ravine of §2.3.4: on E(w) = ½ wᵀAw with condition number κ, gradient descent zig-zags
and needs O(κ) steps, one Newton step lands on the minimum, and conjugate gradients with an
exact line search need two steps (in two dimensions)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Ravine:
    """The quadratic (``A``) and the three trajectories, each an array of points (steps + 1, 2)."""

    A: np.ndarray
    kappa: float
    gradient_descent: np.ndarray
    newton: np.ndarray
    conjugate_gradients: np.ndarray

    @property
    def gd_steps(self) -> int:
        return len(self.gradient_descent) - 1

    def error(self, w) -> np.ndarray:
        w = np.asarray(w, dtype=np.float64)
        return 0.5 * np.einsum("...i,ij,...j->...", w, self.A, w)


def ravine_matrix(kappa: float, angle: float = np.pi / 6) -> np.ndarray:
    """A = R diag(1, κ) Rᵀ: eigenvalues 1 and κ, the valley turned by ``angle``."""
    if not np.isfinite(kappa) or kappa < 1:
        raise ValueError(f"ravine: kappa must be a number ≥ 1, got {kappa!r}")
    c, s = np.cos(angle), np.sin(angle)
    R = np.array([[c, -s], [s, c]])
    return R @ np.diag([1.0, float(kappa)]) @ R.T


def ravine(kappa: float = 50.0, w0=(-9.0, 4.0), tol: float = 1e-6, max_steps: int = 100_000,
           angle: float = np.pi / 6) -> Ravine:
    """Run the three methods from ``w0`` to the minimum w* = 0.

    Gradient descent uses the best fixed rate η = 2/(λ_min + λ_max) and stops when
    ‖w‖ ≤ tol·‖w0‖; its error then shrinks by ((κ − 1)/(κ + 1))² per step, so it needs about
    (κ/4) ln(1/tol) steps.
    """
    A = ravine_matrix(kappa, angle)
    w0 = np.asarray(w0, dtype=np.float64)
    lam = np.linalg.eigvalsh(A)
    eta = 2.0 / (lam[0] + lam[-1])
    path = [w0]
    while np.linalg.norm(path[-1]) > tol * np.linalg.norm(w0) and len(path) <= max_steps:
        w = path[-1]
        path.append(w - eta * (A @ w))  # w ← w − η∇E (eq. 2.20)
    newton = np.array([w0, w0 - np.linalg.solve(A, A @ w0)])  # w − H⁻¹∇E
    return Ravine(A, float(kappa), np.array(path), newton, _conjugate_gradients(A, w0))


def _conjugate_gradients(A: np.ndarray, w0: np.ndarray) -> np.ndarray:
    """Linear CG with exact line search: at most n = 2 steps to the minimum of ½wᵀAw."""
    w, g = w0.copy(), A @ w0
    d = -g
    path = [w.copy()]
    for _ in range(len(w0)):
        if np.linalg.norm(g) == 0:
            break
        alpha = (g @ g) / (d @ A @ d)  # exact minimum along d
        w = w + alpha * d
        g_new = A @ w
        d = -g_new + (g_new @ g_new) / (g @ g) * d
        g = g_new
        path.append(w.copy())
    return np.array(path)
