"""What the page draws beside the diagram, computed here so the page computes nothing: each
unit's output over the input plane (TF Playground's picture inside a unit), the saturated
units, the error surface in the plane of two weights (``dg.analysis.error_surface``) and the
step that training actually takes next (its minibatch, the regulariser's share and the
optimiser's update)."""

from __future__ import annotations

import re

import numpy as np

import deltagrad as dg

from .. import _validate as check
from .config import OWNER

UNIT_GRID = 21       # points per axis of a unit's picture (2-D inputs)
UNIT_CURVE = 41      # points of a unit's curve (1-D inputs)
SURFACE_GRID = 31    # points per axis of the error surface
SATURATED = 0.05     # h'(a) below this share of its largest value: the unit is saturated
SATURATED_SHARE = 0.9  # ... on at least this share of the training patterns
_NAME = re.compile(r"^w\^\((\d)\)_(\d)(\d)$")


def layer_outputs(net, F: np.ndarray) -> list:
    """``[(a^(l), z^(l)), ...]`` for l = 1 … L on inputs ``F`` (N, D): each layer's summed
    inputs and outputs (eq. 1.2–1.3), arrays (N, units)."""
    out = []
    with dg.no_grad():
        z = dg.Tensor(F)
        for l in range(1, len(net.linears) + 1):
            a = getattr(net, f"linear{l}")(z)
            z = getattr(net, f"act{l}")(a)
            out.append((a.data.copy(), z.data.copy()))
    return out


def unit_views(ex, net) -> dict:
    """``units``: every unit's output over a grid of the inputs (layer 0: the features), rounded
    to 5 decimals; ``saturated``: ``[[l, j, share], ...]`` hidden units whose h'(a) is about 0
    on most training patterns, so δ = h'(a) Σ w δ (eq. 3.10) is about 0 and they stop learning."""
    steps = UNIT_GRID if ex.X.shape[1] == 2 else UNIT_CURVE
    axes, mesh = ex.grid(steps)
    F = ex.inputs(mesh)
    maps = [[_rounded(F[:, i]) for i in range(F.shape[1])]]
    maps += [[_rounded(z[:, j]) for j in range(z.shape[1])] for _, z in layer_outputs(net, F)]
    return {"units": {"axes": [a.tolist() for a in axes], "maps": maps},
            "saturated": saturated_units(net, ex.F)}


def saturated_units(net, F: np.ndarray) -> list:
    """Hidden units with h'(a) < 5% of its peak on ≥ 90% of the patterns: tanh with |z| ≈ 1,
    sigmoid with z ≈ 0 or 1, ReLU with a ≤ 0 (a dead unit)."""
    found = []
    outputs = layer_outputs(net, F)[:-1]
    for l, ((a, z), name) in enumerate(zip(outputs, net.activations), start=1):
        if name not in ("tanh", "sigmoid", "relu"):  # identity: never saturates
            continue
        slope = {"tanh": 1 - z ** 2, "sigmoid": 4 * z * (1 - z), "relu": (a > 0) * 1.0}[name]
        share = (slope < SATURATED).mean(axis=0)
        found += [[l, j + 1, float(s)] for j, s in enumerate(share) if s >= SATURATED_SHARE]
    return found


def objective(ex):
    """The training objective Ẽ(w) = E(w) + Ω(w) on the whole training set (eq. 4.2)."""
    loss = dg.losses.get(ex.config["loss"])
    regularizer = ex.fit_arguments()["regularizer"]
    F, T = ex.F, ex.T

    def total(model):
        E = loss(model(F), T)
        return E if regularizer is None else E + regularizer(model, F)
    return total


def flat_index(name: str, sizes: list) -> int:
    """The position of weight ``w^(l)_ji`` in the flat vector (``parameters()`` order:
    linear1.weight, linear1.bias, linear2.weight, ...)."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise ValueError(f"{OWNER}: pair entries must name weights as the notes do, w^(l)_ji "
                         f"(i = 0: the bias), got {name!r}")
    l, j, i = (int(g) for g in match.groups())
    if not (1 <= l < len(sizes) and 1 <= j <= sizes[l] and 0 <= i <= sizes[l - 1]):
        raise ValueError(f"{OWNER}: {name!r} names no weight of the "
                         f"{'-'.join(map(str, sizes))} network")
    start = sum(sizes[k + 1] * (sizes[k] + 1) for k in range(l - 1))
    fan_in, units = sizes[l - 1], sizes[l]
    return start + (units * fan_in + j - 1 if i == 0 else (j - 1) * fan_in + i - 1)


def surface(ex, net, pair, path=None) -> dict:
    """E (training set, with Ω) over a grid of the two weights named in ``pair`` and the local
    quadratic approximation from the exact Hessian (``dg.analysis.error_surface``). The grid
    is centred on the current weights and holds the ``path`` (the weights' earlier values)."""
    if not isinstance(pair, list) or len(pair) != 2:
        raise check.InvalidArgument(OWNER, "pair", "must be a list of two weight names", pair)
    index = [flat_index(name, ex.sizes) for name in pair]
    if index[0] == index[1]:
        raise ValueError(f"{OWNER}: pick two different weights, got {pair[0]!r} twice")
    w = dg.nn.utils.parameters_to_vector(net.parameters())[index]
    points = np.zeros((0, 2)) if path is None else _path(path)
    reach = np.abs(points - w).max(axis=0) if len(points) else np.zeros(2)
    half = np.maximum(np.maximum(1.0, 0.5 * np.abs(w)), 1.15 * reach)
    axes = [np.linspace(c - h, c + h, SURFACE_GRID) for c, h in zip(w, half)]
    s = dg.analysis.error_surface(net, objective(ex), index, axes)
    return {"pair": pair, "axes": [a.tolist() for a in s.axes], "E": _grid(s.E),
            "quadratic": _grid(s.quadratic), "centre": s.centre.tolist(), "E_hat": s.E_hat,
            "gradient": s.gradient.tolist(), "hessian": s.hessian.tolist()}


def training_step(ex, net, epoch: int) -> dict:
    """The first update of epoch ``epoch + 1`` as ``dg.fit`` makes it: the minibatch (the
    epoch's shuffle by seed + epoch, as ``fit`` draws it), ∂E_batch/∂w, the regulariser's
    share (B/N) ∂Ω/∂w, and the SGD update Δw = −η (∂E_batch/∂w + (B/N) ∂Ω/∂w) (eq. 2.20–2.22)."""
    args = ex.fit_arguments()
    N = len(ex.F)
    B = N if args["batch_size"] is None else args["batch_size"]
    order = np.arange(N)
    if B < N:
        order = np.random.default_rng(ex.config["seed"] + epoch).permutation(N)
    rows = order[:B]
    loss, regularizer = dg.losses.get(ex.config["loss"]), args["regularizer"]
    params = net.parameters()
    E = loss(net(ex.F[rows]), ex.T[rows])
    data_grads = dg.grad(E, params)
    omega, reg_grads = 0.0, [np.zeros_like(p.data) for p in params]
    if regularizer is not None:
        term = regularizer.batch_term(net, ex.F[rows], B / N)
        omega = float(term.item())
        if term.requires_grad:
            reg_grads = [g.data for g in dg.grad(term, params, allow_unused=True)]
    weights = []
    for l in range(1, len(ex.sizes)):
        W, b = 2 * (l - 1), 2 * (l - 1) + 1
        for j in range(1, ex.sizes[l] + 1):
            for i in range(ex.sizes[l - 1] + 1):
                k, at = (b, (j - 1,)) if i == 0 else (W, (j - 1, i - 1))
                dE, dO = float(data_grads[k].data[at]), float(reg_grads[k][at])
                w = float(params[k].data[at])
                update = -ex.config["lr"] * (dE + dO)
                weights.append({"name": f"w^({l})_{j}{i}", "w": w, "dE": dE, "dOmega": dO,
                                "update": update, "new": w + update})
    return {"epoch": epoch + 1, "rows": (rows + 1).tolist(), "B": int(B), "N": N,
            "E_batch": float(E.item()), "omega": omega, "lr": ex.config["lr"],
            "mode": ex.config["mode"], "regularizer": ex.config["regularizer"],
            "weights": weights}


def _path(value) -> np.ndarray:
    if not isinstance(value, list) or len(value) > 10_000:
        raise check.InvalidArgument(OWNER, "path", "must be a list of [w_a, w_b] pairs", value)
    points = [[check.real(v, f"path[{k}][{i}]", OWNER, low=-1e6, high=1e6)
               for i, v in enumerate(point)]
              if isinstance(point, list) and len(point) == 2 else
              _bad_point(point) for k, point in enumerate(value)]
    return np.array(points, dtype=float).reshape(-1, 2)


def _bad_point(point):
    raise check.InvalidArgument(OWNER, "path", "must hold [w_a, w_b] pairs of numbers", point)


def _rounded(values: np.ndarray) -> list:
    return [float(v) if np.isfinite(v) else None for v in np.round(values, 5)]


def _grid(values: np.ndarray) -> list:
    return [[float(v) if np.isfinite(v) else None for v in row] for row in values]
