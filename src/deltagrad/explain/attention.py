"""One attention head worked out (chapter 11): the scores q_n·k_m/√d, the softmax row by row with
its sum shown to be 1 (eq. 11.2–11.3), the weighted sum of the values (eq. 11.1), and the
backward pass through the softmax.

Every value comes from the engine: the scores and weights from ``attention_weights`` on the
recorded scores (whose gradient the backward pass fills), the outputs and ∂E/∂q, ∂E/∂k,
∂E/∂v from the fused ``scaled_dot_product_attention`` and its joint VJP; the workings show the
same numbers substituted into each formula.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from ..nn import functional
from ..ops.attention import attention_mask
from ..tensor import Tensor
from .solution import Line, Solution

OWNER = "explain.attention_head"
MAX_TOKENS = 6


def _v(value) -> str:
    return f"{{v:{float(value)!r}}}"


def _matrix(x, name: str, rows: int | None = None) -> np.ndarray:
    array = np.asarray(x.data if isinstance(x, Tensor) else x, dtype=np.float64)
    if array.ndim != 2 or not 1 <= len(array) <= MAX_TOKENS or array.shape[1] > MAX_TOKENS:
        raise ValueError(f"{OWNER}: {name} must be a small matrix (tokens, features) with at most "
                         f"{MAX_TOKENS} of each, got shape {array.shape}")
    if rows is not None and len(array) != rows:
        raise ValueError(f"{OWNER}: {name} must have {rows} rows (one per key), got {len(array)}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{OWNER}: {name} holds a NaN or infinity")
    return array


def _dot_working(a, b) -> str:
    return " + ".join(f"{_v(x)}·{_v(y)}" for x, y in zip(a, b))


def attention_head(q, k, v, grad_output=None, mask=None, causal: bool = False) -> Solution:
    """Work out y = softmax(q kᵀ/√d) v for a few tokens and its backward pass.

    Args:
        q: queries ``(N, d)``; k: keys ``(M, d)``; v: values ``(M, d_v)`` (at most 6 tokens and
            6 features each: a size to check by hand).
        grad_output: ∂E/∂y ``(N, d_v)``; default all ones (E = Σ_n Σ_i y_n[i]).
        mask: optional boolean ``(N, M)``, True = "may attend" (keep).
        causal: query n attends only to keys m ≤ n.

    Returns:
        A :class:`Solution` with ``s_nm``, ``a_nm``, ``Σ_m a_nm``, ``y_n[i]``, ``dE/da_nm``,
        ``dE/ds_nm``, ``dE/dq_n[i]``, ``dE/dk_m[i]``, ``dE/dv_m[i]`` (tokens numbered from 1).

    Example:
        >>> import deltagrad as dg
        >>> x = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
        >>> sol = dg.explain.attention_head(x, x, x)
        >>> round(sol["Σ_m a_1m"], 12), round(sol["a_13"], 4)
        (1.0, 0.4011)
    """
    q, k = _matrix(q, "q"), _matrix(k, "k")
    v = _matrix(v, "v", rows=len(k))
    if q.shape[1] != k.shape[1]:
        raise ValueError(f"{OWNER}: q and k must have the same number of features, got "
                         f"{q.shape[1]} and {k.shape[1]}")
    n_q, n_k, d = len(q), len(k), q.shape[1]
    g = np.ones((n_q, v.shape[1])) if grad_output is None else _matrix(grad_output,
                                                                       "grad_output", n_q)
    if g.shape != (n_q, v.shape[1]):
        raise ValueError(f"{OWNER}: grad_output must have shape {(n_q, v.shape[1])}, "
                         f"got {g.shape}")
    keep = attention_mask(mask, causal, (n_q, n_k), OWNER)
    keep = np.ones((n_q, n_k), bool) if keep is None else keep

    # the engine: weights through the recorded scores, outputs and gradients from the primitive
    Q, K, V = (Tensor(x, requires_grad=True) for x in (q, k, v))
    scores = ops.matmul(Q, K.T) * (1.0 / np.sqrt(d))
    scores.retain_grad()
    weights = functional.attention_weights(scores, mask=keep)
    weights.retain_grad()
    (weights @ V * g).sum().backward()
    s, a, ds, da = scores.data, weights.data, scores.grad, weights.grad
    Q, K, V = (Tensor(x, requires_grad=True) for x in (q, k, v))
    y = functional.scaled_dot_product_attention(Q, K, V, mask=keep)
    y.backward(g)

    sol = Solution(f"One attention head: {n_q} queries, {n_k} keys, d = {d} (eq. 11.1–11.3)")
    section = sol.section("Scores s_nm = q_n · k_m / √d", f"√d = √{d}")
    for n in range(n_q):
        for m in range(n_k):
            if keep[n, m]:
                section.lines.append(Line(f"s_{n + 1}{m + 1}", s[n, m], "q_n · k_m / √d",
                                          f"({_dot_working(q[n], k[m])}) / √{d}"))
    for n in range(n_q):
        row = sol.section(f"Softmax of row {n + 1} (eq. 11.2–11.3)",
                          "masked pairs get a_nm = 0" if not keep[n].all() else "")
        allowed = [m for m in range(n_k) if keep[n, m]]
        denominator = " + ".join(f"exp({_v(s[n, m])})" for m in allowed)
        for m in range(n_k):
            if keep[n, m]:
                row.lines.append(Line(f"a_{n + 1}{m + 1}", a[n, m],
                                      "exp(s_nm) / Σ_m' exp(s_nm') ≥ 0",
                                      f"exp({_v(s[n, m])}) / ({denominator})"))
            else:
                row.lines.append(Line(f"a_{n + 1}{m + 1}", a[n, m], "masked: 0"))
        row.lines.append(Line(f"Σ_m a_{n + 1}m", a[n].sum(), "Σ_m a_nm, which is 1 (eq. 11.3)",
                              " + ".join(_v(a[n, m]) for m in range(n_k))))
    output = sol.section("Weighted sum of the values y_n = Σ_m a_nm v_m (eq. 11.1)",
                         "y from the engine's fused scaled dot-product attention")
    for n in range(n_q):
        for i in range(v.shape[1]):
            output.lines.append(Line(f"y_{n + 1}[{i + 1}]", y.data[n, i], "Σ_m a_nm v_m[i]",
                                     _dot_working(a[n], v[:, i])))
    _backward_sections(sol, (q, k, v, g, a, da, ds, keep, d), (Q, K, V))
    return sol


def _backward_sections(sol: Solution, values: tuple, engine: tuple) -> None:
    q, k, v, g, a, da, ds, keep, d = values
    Q, K, V = engine
    n_q, n_k = a.shape
    into_a = sol.section("Backward: ∂E/∂a_nm = Σ_i ∂E/∂y_n[i] v_m[i]",
                         "∂E/∂y given (default: all ones)")
    softmax = sol.section("Backward through the softmax: ∂E/∂s_nm = a_nm (∂E/∂a_nm − Σ_m' "
                          "a_nm' ∂E/∂a_nm')", "zero where masked")
    for n in range(n_q):
        mean = float(a[n] @ da[n])
        for m in range(n_k):
            if not keep[n, m]:
                continue
            into_a.lines.append(Line(f"dE/da_{n + 1}{m + 1}", da[n, m], "Σ_i ∂E/∂y_n[i] v_m[i]",
                                     _dot_working(g[n], v[m])))
            softmax.lines.append(Line(f"dE/ds_{n + 1}{m + 1}", ds[n, m],
                                      "a_nm (∂E/∂a_nm − Σ_m' a_nm' ∂E/∂a_nm')",
                                      f"{_v(a[n, m])} × ({_v(da[n, m])} − {_v(mean)})"))
    inputs = sol.section("Gradients of the queries, keys and values",
                         "from the engine's fused backward (joint VJP)")
    for n in range(n_q):
        for i in range(q.shape[1]):
            inputs.lines.append(Line(f"dE/dq_{n + 1}[{i + 1}]", Q.grad[n, i],
                                     "Σ_m ∂E/∂s_nm k_m[i] / √d",
                                     f"({_dot_working(ds[n], k[:, i])}) / √{d}"))
    for m in range(n_k):
        for i in range(k.shape[1]):
            inputs.lines.append(Line(f"dE/dk_{m + 1}[{i + 1}]", K.grad[m, i],
                                     "Σ_n ∂E/∂s_nm q_n[i] / √d",
                                     f"({_dot_working(ds[:, m], q[:, i])}) / √{d}"))
        for i in range(v.shape[1]):
            inputs.lines.append(Line(f"dE/dv_{m + 1}[{i + 1}]", V.grad[m, i],
                                     "Σ_n a_nm ∂E/∂y_n[i]", _dot_working(a[:, m], g[:, i])))
