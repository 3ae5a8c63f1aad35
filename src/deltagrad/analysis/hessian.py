"""The Hessian and the local quadratic picture (§2.3): exact Hessian-vector products by double
backward, the full Hessian, the outer-product (Gauss–Newton) approximation, the spectrum, the
local-minimum test (eq. 2.19) and the quadratic approximation (eq. 2.13–2.16)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._state import no_grad
from ..autograd import grad as _grad
from ..nn.module import Module
from ..nn.utils import parameters_to_vector
from ..optim.minimize import FlatObjective
from ..tensor import Tensor

MAX_FULL_HESSIAN = 5_000


def parameter_names(model: Module) -> list:
    """A name per entry of the flat weight vector (``"linear1.weight[1,0]"``), in the order of
    ``parameters()`` — the order ``optim.minimize`` packs them in."""
    names = []
    for name, p in model.named_parameters():
        for index in np.ndindex(*p.shape):
            names.append(f"{name}[{','.join(map(str, index))}]" if index else name)
    return names


def hvp(model: Module, objective, v) -> np.ndarray:
    """H v, exactly, by double backward (Pearlmutter's R-operator, as Netlab's ``mlphdotv``).

    Args:
        objective: ``objective(model)`` → the scalar error Tensor.
        v: a flat vector of W entries (parameter order).
    """
    flat = FlatObjective(model, objective)
    w = parameters_to_vector(flat.params)
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.shape != w.shape:
        raise ValueError(f"hvp: v must have {w.size} entries (one per weight), got {v.size}")
    result = flat.hessp(w, v)
    flat.load(w)
    return result


class Hessian(NamedTuple):
    """The W×W matrix and the parameter name of each row/column."""

    matrix: np.ndarray
    names: list


def _check_size(W: int, allow_large: bool, what: str) -> None:
    if W > MAX_FULL_HESSIAN and not allow_large:
        raise ValueError(f"{what}: the model has {W} parameters; a full {W}×{W} Hessian takes "
                         f"{W * W * 8 / 2 ** 20:,.0f} MiB and {W} Hessian-vector products. "
                         f"Above {MAX_FULL_HESSIAN} pass allow_large=True, or use hvp()")


def hessian(model: Module, objective, allow_large: bool = False) -> Hessian:
    """The full Hessian H_ij = ∂²E/∂w_i∂w_j (eq. 2.15), one exact H e_i per column."""
    flat = FlatObjective(model, objective)
    w = parameters_to_vector(flat.params)
    _check_size(w.size, allow_large, "hessian")
    H = np.empty((w.size, w.size))
    e = np.zeros(w.size)
    for i in range(w.size):
        e[i] = 1.0
        H[:, i] = flat.hessp(w, e)
        e[i] = 0.0
    flat.load(w)
    return Hessian(0.5 * (H + H.T), parameter_names(model))


def outer_product_hessian(model: Module, X, T=None, allow_large: bool = False) -> np.ndarray:
    """The outer-product (Gauss–Newton, Levenberg–Marquardt) approximation for the
    sum-of-squares error: H ≈ Σ_n Σ_k b_nk b_nkᵀ with b_nk = ∇_w y_k(x_n). It equals the
    Hessian when the residuals y − t vanish. ``T`` is not needed (kept for symmetry)."""
    params = model.parameters()
    W = sum(p.size for p in params)
    _check_size(W, allow_large, "outer_product_hessian")
    X = np.atleast_2d(np.asarray(X, dtype=params[0].dtype))
    y = model(Tensor(X))
    if y.ndim == 1:
        y = y.reshape(-1, 1)
    H = np.zeros((W, W))
    for n in range(len(X)):
        for k in range(y.shape[1]):
            seed = np.zeros(y.shape)
            seed[n, k] = 1.0
            grads = _grad(y, params, grad_outputs=seed, retain_graph=True, allow_unused=True)
            b = np.concatenate([np.zeros(p.size) if g is None else g.data.ravel()
                                for p, g in zip(params, grads)])
            H += np.outer(b, b)
    return H


@dataclass
class Spectrum:
    """Eigenvalues (ascending), eigenvectors (columns) and the condition number λ_max/λ_min
    (infinite when λ_min ≤ 0)."""

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    condition_number: float


def spectrum(H) -> Spectrum:
    """Eigen-decomposition H u_i = λ_i u_i (eq. 2.18) of a symmetric matrix."""
    H = H.matrix if isinstance(H, Hessian) else np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"spectrum: expected a square matrix, got shape {H.shape}")
    values, vectors = np.linalg.eigh(0.5 * (H + H.T))
    kappa = float(values[-1] / values[0]) if values[0] > 0 else float("inf")
    return Spectrum(values, vectors, kappa)


def hessian_condition(model: Module, objective, allow_large: bool = False) -> float:
    """κ = λ_max/λ_min of a (trained) network's Hessian: the ravine's elongation (§2.3.4)."""
    return spectrum(hessian(model, objective, allow_large)).condition_number


@dataclass
class MinimumCheck:
    """``is_minimum`` when ‖∇E‖ ≤ tol and every eigenvalue λ_i > tol·max(1, λ_max)."""

    is_minimum: bool
    gradient_norm: float
    min_eigenvalue: float
    max_eigenvalue: float

    def __bool__(self) -> bool:
        return self.is_minimum


def is_local_minimum(model: Module, objective, tol: float = 1e-6,
                     allow_large: bool = False) -> MinimumCheck:
    """A stationary point (eq. 2.11) with a positive definite Hessian (eq. 2.19)."""
    flat = FlatObjective(model, objective)
    w = parameters_to_vector(flat.params)
    _, g = flat.fun(w)
    values = spectrum(hessian(model, objective, allow_large)).eigenvalues
    norm = float(np.linalg.norm(g))
    ok = norm <= tol and values[0] > tol * max(1.0, abs(values[-1]))
    return MinimumCheck(bool(ok), norm, float(values[0]), float(values[-1]))


@dataclass
class QuadraticApproximation:
    """Ê(w) = E(ŵ) + (w − ŵ)ᵀb + ½ (w − ŵ)ᵀH(w − ŵ) (eq. 2.13) and ∇Ê = b + H(w − ŵ) (2.16),
    as functions of the flat weight vector ``w``."""

    w_hat: np.ndarray
    E_hat: float
    b: np.ndarray
    H: np.ndarray

    def error(self, w) -> float:
        d = np.asarray(w, dtype=np.float64) - self.w_hat
        return float(self.E_hat + d @ self.b + 0.5 * d @ self.H @ d)

    def gradient(self, w) -> np.ndarray:
        return self.b + self.H @ (np.asarray(w, dtype=np.float64) - self.w_hat)

    __call__ = error


def quadratic_approximation(model: Module, objective,
                            allow_large: bool = False) -> QuadraticApproximation:
    """The local quadratic model of E around the model's current weights ŵ."""
    flat = FlatObjective(model, objective)
    w = parameters_to_vector(flat.params)
    E, b = flat.fun(w)
    H = hessian(model, objective, allow_large).matrix
    return QuadraticApproximation(w, E, b, H)


def error_at(model: Module, objective, w) -> float:
    """E at the flat weight vector ``w`` (the model is left at its own weights)."""
    flat = FlatObjective(model, objective)
    w0 = parameters_to_vector(flat.params)
    flat.load(np.asarray(w, dtype=np.float64))
    with no_grad():
        value = objective(model).item()
    flat.load(w0)
    return value
