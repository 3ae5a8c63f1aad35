"""The playground's data sets: the logic gates (§5.2–5.3), the notes' worked examples (§2.1.3,
§3.4), circles, two spirals, two moons, two Gaussian clusters, a 1-D regression
t = sin(2πx) + noise, and a small set uploaded as CSV. Every generated set is a function of
(n, noise, seed) only. The network sees the chosen input features of x (TF Playground's x₁, x₂,
x₁², x₂², x₁x₂, sin x₁, sin x₂), computed by :func:`features`.

A data set is ``Data(X, labels, kind)``: inputs ``(N, D)`` and, for ``kind == "classes"``,
integer labels 0/1 ``(N,)``; for ``kind == "regression"``, real targets ``(N,)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..explain import SPECS
from ..logic import gate

GATES = ("and", "or", "nand", "nor", "xor")
EXAMPLES = {"example-2.1.3": "2.1.3", "question-1": "1", "question-2": "2"}
GENERATED = ("circles", "spirals", "moons", "gaussian", "sin")
NAMES = GATES + tuple(EXAMPLES) + GENERATED + ("csv",)
MAX_PATTERNS = 1000
MAX_CSV_CHARS = 100_000
# input features: name -> (what it reads, the function of the inputs X (N, D))
FEATURES = {
    "x1": ("x₁", lambda X: X[:, 0]), "x2": ("x₂", lambda X: X[:, 1]),
    "x1^2": ("x₁²", lambda X: X[:, 0] ** 2), "x2^2": ("x₂²", lambda X: X[:, 1] ** 2),
    "x1x2": ("x₁x₂", lambda X: X[:, 0] * X[:, 1]),
    "sin_x1": ("sin x₁", lambda X: np.sin(X[:, 0])),
    "sin_x2": ("sin x₂", lambda X: np.sin(X[:, 1])),
}
ONE_INPUT_FEATURES = ("x1", "x1^2", "sin_x1")  # those of a 1-D input x = x₁


def features(X: np.ndarray, names) -> np.ndarray:
    """The network's inputs ``(N, len(names))``: the named features of the inputs ``(N, D)``.

    Example:
        >>> features(np.array([[2.0, 3.0]]), ["x1", "x1x2", "x2^2"])
        array([[2., 6., 9.]])
    """
    X = np.asarray(X, dtype=float)
    return np.column_stack([FEATURES[name][1](X) for name in names])


@dataclass
class Data:
    X: np.ndarray        # (N, D) inputs
    targets: np.ndarray  # (N,) labels 0/1 (kind "classes") or real targets ("regression")
    kind: str            # "classes" or "regression"

    @property
    def dims(self) -> int:
        return self.X.shape[1]


def generate(name: str, n: int, noise: float, seed: int, points=None) -> Data:
    """The data set ``name``; ``n`` patterns, Gaussian ``noise`` (a standard deviation) and
    ``seed`` apply to the generated ones; ``points`` is the ``{"X", "t"}`` of ``"csv"``."""
    if name in GATES:
        table = gate(name, 2).truth_table()
        return Data(table[:, :2].astype(float), table[:, 2].astype(float), "classes")
    if name in EXAMPLES:
        spec = SPECS[EXAMPLES[name]]
        kind = "regression" if spec["loss"] == "sum_of_squares" else "classes"
        return Data(np.array([spec["x"]], dtype=float), np.array(spec["t"], dtype=float), kind)
    if name == "csv":
        return points_data(points)
    rng = np.random.default_rng(seed)
    X, targets, kind = _GENERATORS[name](n, rng)
    if kind == "classes":
        X = X + rng.normal(0.0, noise, size=X.shape)
    else:
        targets = targets + rng.normal(0.0, noise, size=targets.shape)
    return Data(X, targets.astype(float), kind)


def _circles(n: int, rng):
    """An inner disc (class 1, radius ≤ 0.5) inside a ring (class 0, radius 0.8–1)."""
    labels = np.arange(n) % 2
    radius = np.where(labels == 1, 0.5 * np.sqrt(rng.uniform(0, 1, n)), rng.uniform(0.8, 1.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]), labels, "classes"


def _spirals(n: int, rng):
    """Two interleaved spirals, each 1.5 turns, radius up to 1."""
    labels = np.arange(n) % 2
    s = rng.uniform(0.05, 1.0, n)
    angle = 3 * np.pi * s + np.pi * labels
    return np.column_stack([s * np.cos(angle), s * np.sin(angle)]), labels, "classes"


def _moons(n: int, rng):
    """Two interleaving half circles (as scikit-learn's make_moons), centred on the origin."""
    labels = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, n)
    upper = np.column_stack([np.cos(angle), np.sin(angle)])
    lower = np.column_stack([1 - np.cos(angle), 0.5 - np.sin(angle)])
    X = np.where(labels[:, None] == 0, upper, lower) - [0.5, 0.25]
    return X, labels, "classes"


def _sin(n: int, rng):
    """x uniform in [0, 1], t = sin(2πx): the notes' curve-fitting example."""
    x = rng.uniform(0.0, 1.0, n)
    return x[:, None], np.sin(2 * np.pi * x), "regression"


def _gaussian(n: int, rng):
    """Two Gaussian clusters (σ 0.3 before the noise) centred at ±(0.5, 0.5): class 1 upper
    right, class 0 lower left — TF Playground's "Gaussian" set."""
    labels = np.arange(n) % 2
    centres = np.where(labels[:, None] == 1, 0.5, -0.5)
    return centres + rng.normal(0.0, 0.3, size=(n, 2)), labels, "classes"


_GENERATORS = {"circles": _circles, "spirals": _spirals, "moons": _moons, "gaussian": _gaussian,
               "sin": _sin}


def points_data(points) -> Data:
    """A set typed in or uploaded: ``{"X": [[x1(, x2)], ...], "t": [...]}``; targets that are
    all 0 or 1 make a classification set, anything else a regression."""
    if not isinstance(points, dict) or set(points) != {"X", "t"}:
        raise ValueError("playground: points must be an object {\"X\": [[...], ...], \"t\": [...]}")
    X = _finite_array(points["X"], "points.X", 2)
    t = _finite_array(points["t"], "points.t", 1)
    if X.shape[1] not in (1, 2) or not 1 <= len(X) <= MAX_PATTERNS or len(t) != len(X):
        raise ValueError(f"playground: points must hold 1 to {MAX_PATTERNS} patterns of 1 or 2 "
                         f"inputs and one target each, got X {X.shape} and t {t.shape}")
    kind = "classes" if np.all(np.isin(t, (0.0, 1.0))) else "regression"
    return Data(X, t, kind)


def parse_points(text: str) -> dict:
    """``{"X", "t"}`` from CSV text: a header row, then 1 or 2 input columns and the target in
    the last column."""
    from ..data.csvfile import parse_csv

    if not isinstance(text, str) or len(text) > MAX_CSV_CHARS:
        raise ValueError(f"playground: csv must be text of at most {MAX_CSV_CHARS} characters")
    header, data = parse_csv(text, "csv")
    if data.shape[1] not in (2, 3):
        raise ValueError(f"csv: expected 1 or 2 input columns and a target column, got "
                         f"{data.shape[1]} columns {header}")
    points = {"X": data[:, :-1].tolist(), "t": data[:, -1].tolist()}
    points_data(points)  # the same limits as points given directly
    return points


def _finite_array(value, name: str, ndim: int) -> np.ndarray:
    try:
        array = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"playground: {name} must be numbers in a {ndim}-D list") from None
    if array.ndim != ndim or not np.all(np.isfinite(array)):
        raise ValueError(f"playground: {name} must be a {ndim}-D list of finite numbers, "
                         f"got shape {array.shape}")
    return array
