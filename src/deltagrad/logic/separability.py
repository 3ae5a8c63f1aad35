"""Linear separability (Remark 5.1) decided by linear programming.

A truth table is computable by one perceptron exactly when some (w, b) gives w·x + b ≥ 0 on
every true row and w·x + b < 0 on every false row. For finitely many points that holds iff the
convex hulls of the true and false rows do not meet; when they meet, a point in both hulls
(with the convex weights that produce it from each side) is the certificate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .compiler import as_truth_table
from .network import truth_table_inputs


@dataclass
class Separability:
    """``separable``; if so ``weights`` and ``bias`` of a perceptron computing the table, else
    ``certificate``: a point in the convex hulls of both the true and the false rows, with the
    convex weights over each side's rows (``{"point", "true_rows", "false_rows"}``)."""

    separable: bool
    weights: np.ndarray | None = None
    bias: float | None = None
    certificate: dict | None = None

    def __bool__(self) -> bool:
        return self.separable


def is_linearly_separable(table, n: int | None = None) -> Separability:
    """Decide whether one perceptron (eq. 5.1–5.2) computes the truth table.

    Example:
        >>> bool(is_linearly_separable([0, 0, 0, 1])), bool(is_linearly_separable([0, 1, 1, 0]))
        (True, False)
    """
    table, n = as_truth_table(table, n)
    X = truth_table_inputs(n)
    pos, neg = X[table == 1], X[table == 0]
    if len(pos) == 0 or len(neg) == 0:  # constant: zero weights and the bias decide
        return Separability(True, np.zeros(n), 0.5 if len(neg) == 0 else -0.5)
    # find w, b with w·x + b ≥ 0 on true rows and ≤ −1 on false rows (any margin rescales to 1)
    A = np.vstack([-np.hstack([pos, np.ones((len(pos), 1))]),
                   np.hstack([neg, np.ones((len(neg), 1))])])
    rhs = np.concatenate([np.zeros(len(pos)), -np.ones(len(neg))])
    from scipy.optimize import linprog  # here: scipy.optimize is slow to import

    result = linprog(np.zeros(n + 1), A_ub=A, b_ub=rhs, bounds=[(None, None)] * (n + 1),
                     method="highs")
    if result.status == 0:
        w, b = result.x[:n], result.x[n]
        return Separability(True, w, float(b) + 0.5)  # move the threshold into the gap
    return Separability(False, certificate=_common_point(pos, neg))


def _common_point(pos: np.ndarray, neg: np.ndarray) -> dict:
    """λ, μ ≥ 0 with Σλ = Σμ = 1 and Σλ_i p_i = Σμ_j q_j: both hulls contain the point."""
    p, q = len(pos), len(neg)
    A_eq = np.vstack([np.hstack([pos.T, -neg.T]),
                      np.hstack([np.ones(p), np.zeros(q)]),
                      np.hstack([np.zeros(p), np.ones(q)])])
    b_eq = np.concatenate([np.zeros(pos.shape[1]), [1.0, 1.0]])
    from scipy.optimize import linprog

    result = linprog(np.zeros(p + q), A_eq=A_eq, b_eq=b_eq, bounds=[(0, None)] * (p + q),
                     method="highs")
    lam, mu = result.x[:p], result.x[p:]
    return {"point": lam @ pos, "true_rows": _convex_weights(pos, lam),
            "false_rows": _convex_weights(neg, mu)}


def _convex_weights(rows, weights) -> dict:
    return {tuple(int(v) for v in row): float(c) for row, c in zip(rows, weights) if c > 1e-12}
