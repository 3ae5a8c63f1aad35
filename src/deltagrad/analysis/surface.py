"""The error surface in the plane of two weights (§2.3): E over a grid of their values with
every other weight held, beside the local quadratic approximation (eq. 2.13) restricted to
that plane, from the exact gradient and the exact Hessian entries (two Hessian-vector
products by double backward)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._state import no_grad
from ..nn.module import Module
from ..nn.utils import parameters_to_vector
from ..optim.minimize import FlatObjective
from .hessian import parameter_names


@dataclass
class Surface:
    """E and Ê on the grid ``axes[0] × axes[1]``: ``E[r, c]`` at (axes[0][c], axes[1][r]).

    ``centre``: the two weights' current values ŵ; ``E_hat``: E(ŵ); ``gradient``: (b_a, b_b),
    their entries of ∇E; ``hessian``: their 2×2 block of H.
    """

    names: tuple
    axes: tuple
    E: np.ndarray
    quadratic: np.ndarray
    centre: np.ndarray
    E_hat: float
    gradient: np.ndarray
    hessian: np.ndarray


def error_surface(model: Module, objective, pair, axes) -> Surface:
    """E(w) over a grid of two weights of ``model`` (the rest at their current values) and
    Ê(w) = E(ŵ) + dᵀb + ½ dᵀHd (eq. 2.13) with d the two weights' change from ŵ.

    Args:
        objective: ``objective(model)`` → the scalar error Tensor.
        pair: two indices into the flat weight vector, or two names from
            :func:`parameter_names` (``"linear1.weight[0,1]"``).
        axes: two 1-D arrays, the values of the first and the second weight.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> net = dg.nn.Linear(1, 1, rng=0)
        >>> X, T = np.array([[1.0], [2.0]]), np.array([[1.0], [3.0]])
        >>> E = lambda m: dg.losses.sum_of_squares(m(X), T)
        >>> s = dg.analysis.error_surface(net, E, (0, 1), ([0.0, 1.0], [0.0, 2.0]))
        >>> bool(np.allclose(s.E, s.quadratic))  # a linear model's E is quadratic
        True
    """
    names = parameter_names(model)
    index = _indices(pair, names)
    grid = [np.asarray(a, dtype=np.float64) for a in _pair(axes, "axes")]
    if any(a.ndim != 1 or a.size < 2 or not np.all(np.isfinite(a)) for a in grid):
        raise ValueError("error_surface: axes must be two 1-D lists of at least 2 finite values")
    flat = FlatObjective(model, objective)
    w0 = parameters_to_vector(flat.params)
    E0, g = flat.fun(w0)
    columns = [flat.hessp(w0, np.eye(w0.size)[k]) for k in index]
    H = np.array([[columns[0][index[0]], columns[0][index[1]]],
                  [columns[1][index[0]], columns[1][index[1]]]])
    H = 0.5 * (H + H.T)  # equal up to rounding: H is symmetric
    centre, b = w0[list(index)], g[list(index)]
    E = np.empty((grid[1].size, grid[0].size))
    w = w0.copy()
    try:
        with no_grad():
            for r, v in enumerate(grid[1]):
                for c, u in enumerate(grid[0]):
                    w[index[0]], w[index[1]] = u, v
                    flat.load(w)
                    E[r, c] = objective(model).item()
    finally:
        flat.load(w0)
    du, dv = np.meshgrid(grid[0] - centre[0], grid[1] - centre[1])
    quadratic = (E0 + du * b[0] + dv * b[1]
                 + 0.5 * (H[0, 0] * du ** 2 + 2 * H[0, 1] * du * dv + H[1, 1] * dv ** 2))
    return Surface((names[index[0]], names[index[1]]), tuple(grid), E, quadratic, centre,
                   float(E0), b, H)


def _pair(value, what: str) -> tuple:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"error_surface: {what} must be a pair, got {value!r}")
    return tuple(value)


def _indices(pair, names: list) -> tuple:
    out = []
    for item in _pair(pair, "pair"):
        if isinstance(item, str):
            if item not in names:
                raise ValueError(f"error_surface: no weight named {item!r}; the model's are "
                                 f"{names[:6]}{' …' if len(names) > 6 else ''}")
            out.append(names.index(item))
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool) \
                and 0 <= item < len(names):
            out.append(int(item))
        else:
            raise ValueError(f"error_surface: pair entries must be names or indices in "
                             f"[0, {len(names)}), got {item!r}")
    if out[0] == out[1]:
        raise ValueError(f"error_surface: pick two different weights, got {pair!r} twice")
    return tuple(out)
