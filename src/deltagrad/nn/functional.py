"""Attention as functions (chapter 11): the weights a_nm, the parameter-free self-attention of
eq. 11.1, scaled dot-product attention, and the masks they accept.

Masks work as ``attn_mask`` of ``torch.nn.functional.scaled_dot_product_attention``: a boolean
one means "may attend" (True = keep; masked pairs get weight exactly 0), a float one is added
to the scores (−inf forbids a pair).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .. import ops
from ..ops.attention import attention_mask, scaled_dot_product_attention
from ..tensor import Tensor

__all__ = ["attention_weights", "causal_mask", "scaled_dot_product_attention",
           "simple_self_attention"]


def _as_float_tensor(x, name: str, owner: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    array = np.asarray(x)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must be numeric, got dtype {array.dtype}")
    return Tensor(array)


def attention_weights(scores, mask=None, causal: bool = False) -> Tensor:
    """a_nm = exp(s_nm) / Σ_m' exp(s_nm') over the allowed m: rows with a_nm ≥ 0 (eq. 11.2)
    and Σ_m a_nm = 1 (eq. 11.3).

    Args:
        scores: ``(..., N, M)``, the logits s_nm of query n for input m.
        mask: optional array broadcastable to ``scores``: boolean, True means "may attend"
            (keep) and a masked entry gets a_nm = 0 exactly; or float, added to the scores
            (−inf forbids an entry). Every row must keep at least one m.
        causal: also mask m > n (an output never looks ahead).

    Returns:
        ``(..., N, M)``, differentiable with respect to ``scores``.

    Example:
        >>> import deltagrad as dg
        >>> dg.nn.functional.attention_weights([[0.0, 0.0, 5.0]], mask=[[True, True, False]])
        tensor([[0.5, 0.5, 0. ]])
    """
    owner = "attention_weights"
    scores = _as_float_tensor(scores, "scores", owner)
    if scores.ndim < 2:
        raise ValueError(f"{owner}: scores must have shape (..., N, M), got shape {scores.shape}")
    mask = attention_mask(mask, causal, scores.shape, owner, scores.dtype)
    if mask is not None and mask.dtype == np.bool_:
        scores = ops.where(mask, scores, -np.inf)
    elif mask is not None:  # a float mask is added to the scores (PyTorch's attn_mask)
        scores = scores + mask
    return ops.softmax(scores, axis=-1)


def simple_self_attention(x) -> Tensor:
    """y_n = Σ_m a_nm x_m with a_nm = softmax_m(x_n · x_m): eq. 11.1 with weights computed from
    the data alone (no parameters, no scaling), i.e. softmax(x xᵀ) x.

    Args:
        x: ``(..., N, D)``, N tokens of D features.

    Returns:
        ``(..., N, D)``.

    Example:
        >>> import deltagrad as dg
        >>> dg.nn.functional.simple_self_attention([[1.0, 0.0], [0.0, 1.0]]).data.round(4)
        array([[0.7311, 0.2689],
               [0.2689, 0.7311]])
    """
    x = _as_float_tensor(x, "x", "simple_self_attention")
    if x.ndim < 2:
        raise ValueError(f"simple_self_attention: x must have shape (..., N, D), "
                         f"got shape {x.shape}")
    return scaled_dot_product_attention(x, x, x, scale=1.0)


def causal_mask(length: int, keys: int | None = None) -> np.ndarray:
    """The ``(length, keys)`` boolean mask with True where key m ≤ query n (may attend).

    Example:
        >>> import deltagrad as dg
        >>> dg.nn.functional.causal_mask(3).astype(int)
        array([[1, 0, 0],
               [1, 1, 0],
               [1, 1, 1]])
    """
    length = check.positive_int(length, "length", "causal_mask")
    keys = length if keys is None else check.positive_int(keys, "keys", "causal_mask")
    return np.tril(np.ones((length, keys), dtype=bool))
