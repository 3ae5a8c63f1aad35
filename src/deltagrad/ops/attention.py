"""Scaled dot-product attention (chapter 11) as one fused primitive: forward and VJPs together.

For queries Q ``(..., L, d)``, keys K ``(..., S, d)`` and values V ``(..., S, d_v)``:

    scores  s_nm = q_n · k_m / √d                      (the data-dependent weights' logits)
    weights a_nm = exp(s_nm) / Σ_m' exp(s_nm')         (a_nm ≥ 0, Σ_m a_nm = 1: eq. 11.2–11.3)
    output  y_n  = Σ_m a_nm v_m                        (eq. 11.1)

A boolean mask means "may attend" (True = keep), as ``torch.nn.functional.
scaled_dot_product_attention``: a masked pair gets a_nm = 0 exactly. Fused for speed: the
plain backward pass computes the weights once and gives ∂E/∂Q, ∂E/∂K, ∂E/∂V from them
(``joint_vjp``); the per-input VJPs are written with deltagrad's ops, so the primitive also
differentiates twice (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor
from .base import Primitive
from .elementwise import _where
from .reduce import _softmax, _softmax_forward


def _scores(q, k, scale: float, mask):
    """s = q kᵀ · scale with the disallowed pairs set to −∞ (ndarrays or Tensors)."""
    s = (q @ k.swapaxes(-1, -2)) * scale
    return s if mask is None else _where(mask, s, -np.inf)


def _weights(q, k, scale, mask):
    """a = softmax(s) along the keys (eq. 11.2–11.3)."""
    s = _scores(q, k, scale, mask)
    if isinstance(s, Tensor):
        return _softmax(s, axis=(s.ndim - 1,))
    return _softmax_forward(s, axis=-1)


def _forward(q, k, v, scale, mask=None):
    return _softmax_forward(_scores(q, k, scale, mask), axis=-1) @ v


def _score_gradient(g, a, v):
    """∂E/∂s = a ⊙ (∂E/∂a − Σ_m a_m ∂E/∂a_m), ∂E/∂a = g vᵀ: the softmax's VJP row by row."""
    ga = g @ v.swapaxes(-1, -2)
    return a * (ga - (ga * a).sum(axis=-1, keepdims=True))


def _vjp_q(g, ans, q, k, v, scale, mask=None):
    a = _weights(q, k, scale, mask)
    return (_score_gradient(g, a, v) @ k) * scale


def _vjp_k(g, ans, q, k, v, scale, mask=None):
    a = _weights(q, k, scale, mask)
    return (_score_gradient(g, a, v).swapaxes(-1, -2) @ q) * scale


def _vjp_v(g, ans, q, k, v, scale, mask=None):
    return _weights(q, k, scale, mask).swapaxes(-1, -2) @ g


def _joint_vjp(g, ans, needed, q, k, v, scale, mask=None):
    """All three gradients from one softmax: ∂E/∂V = aᵀ g, ∂E/∂Q = (∂E/∂s) K · scale,
    ∂E/∂K = (∂E/∂s)ᵀ Q · scale."""
    a = _weights(q, k, scale, mask)
    grads = [None, None, a.swapaxes(-1, -2) @ g if needed[2] else None]
    if needed[0] or needed[1]:
        ds = _score_gradient(g, a, v)
        ds *= scale
        grads[0] = ds @ k if needed[0] else None
        grads[1] = ds.swapaxes(-1, -2) @ q if needed[1] else None
    return grads


sdpa = Primitive("scaled_dot_product_attention", _forward, (_vjp_q, _vjp_k, _vjp_v),
                 joint_vjp=_joint_vjp)


def _as_operand(x, name: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype.kind not in "f":
        raise TypeError(f"scaled_dot_product_attention: {name} must be a float Tensor or array, "
                        f"got dtype {array.dtype}")
    return Tensor._wrap(array)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


def attention_mask(mask, causal: bool, scores_shape: tuple, owner: str):
    """The boolean "may attend" mask (True = keep) for scores of shape ``(..., L, S)``, combined
    with the causal mask (query n sees keys m ≤ n) when ``causal``; ``None`` when neither.

    Raises a clear error for a non-boolean mask, one that does not broadcast to the scores, or
    a query row that may attend to nothing (its weights could not sum to 1, eq. 11.3).
    """
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"{owner}: causal must be True or False, got {causal!r}")
    length, keys = scores_shape[-2:]
    if mask is not None:
        mask = mask.data if isinstance(mask, Tensor) else np.asarray(mask)
        if mask.dtype != np.bool_:
            raise TypeError(f"{owner}: mask must be boolean (True = may attend), "
                            f"got dtype {mask.dtype}")
        if not _broadcasts_to(mask.shape, tuple(scores_shape)):
            raise ValueError(f"{owner}: mask of shape {mask.shape} does not broadcast to the "
                             f"attention scores' shape {tuple(scores_shape)} (…, queries "
                             f"{length}, keys {keys})")
    if causal:
        lower = np.tril(np.ones((length, keys), dtype=bool))
        mask = lower if mask is None else mask & lower
    if mask is not None and not np.all(np.any(mask, axis=-1)):
        raise ValueError(f"{owner}: the mask leaves a query with no key to attend to (a row of "
                         "attention weights must sum to 1, eq. 11.3)")
    return mask


def scaled_dot_product_attention(q, k, v, mask=None, causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """y = softmax(q kᵀ/√d) v (eq. 11.1–11.3), one fused node.

    Args:
        q: queries ``(..., L, d)``; k: keys ``(..., S, d)``; v: values ``(..., S, d_v)``
            (leading dimensions broadcast, as in matmul).
        mask: optional boolean array broadcastable to ``(..., L, S)``; True means "may
            attend" (keep), as ``torch.nn.functional.scaled_dot_product_attention``; masked
            pairs get weight exactly 0.
        causal: also forbid query n from attending to keys m > n.
        scale: the factor on the scores; default 1/√d.

    Returns:
        ``(..., L, d_v)``.

    Example:
        >>> import deltagrad as dg
        >>> q = dg.tensor([[1.0, 0.0], [0.0, 1.0]])
        >>> dg.nn.functional.scaled_dot_product_attention(q, q, q, causal=True).data[0]
        array([1., 0.])
    """
    owner = "scaled_dot_product_attention"
    q, k, v = _as_operand(q, "q"), _as_operand(k, "k"), _as_operand(v, "v")
    for name, x in (("q", q), ("k", k), ("v", v)):
        if x.ndim < 2:
            raise ValueError(f"{owner}: {name} must have shape (..., length, features), "
                             f"got shape {x.shape}")
    if not q.dtype == k.dtype == v.dtype:
        raise TypeError(f"{owner}: q, k, v must share one dtype, got {q.dtype}, {k.dtype}, "
                        f"{v.dtype}")
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ValueError(f"{owner}: q (..., L, d), k (..., S, d) and v (..., S, d_v) do not "
                         f"fit: got shapes {q.shape}, {k.shape}, {v.shape}")
    try:
        batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    except ValueError:
        raise ValueError(f"{owner}: the leading dimensions of q {q.shape}, k {k.shape} and "
                         f"v {v.shape} do not broadcast") from None
    if scale is None:
        scale = 1.0 / float(np.sqrt(q.shape[-1]))
    scale = check.real(scale, "scale", owner)
    mask = attention_mask(mask, causal, batch + (q.shape[-2], k.shape[-2]), owner)
    return sdpa(q, k, v, scale=scale, mask=mask)
