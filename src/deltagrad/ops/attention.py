"""Scaled dot-product attention (chapter 11) as one fused primitive: forward and VJPs together.

For queries Q ``(..., L, d)``, keys K ``(..., S, d)`` and values V ``(..., S, d_v)``:

    scores  s_nm = q_n · k_m / √d                      (the data-dependent weights' logits)
    weights a_nm = exp(s_nm) / Σ_m' exp(s_nm')         (a_nm ≥ 0, Σ_m a_nm = 1: eq. 11.2–11.3)
    output  y_n  = Σ_m a_nm v_m                        (eq. 11.1)

A mask works as ``torch.nn.functional.scaled_dot_product_attention``'s ``attn_mask``: a
boolean one means "may attend" (True = keep; a masked pair gets a_nm = 0 exactly), a float one
is added to the scores s_nm. Fused for speed: the forward keeps the weights a, and the plain
backward pass gives ∂E/∂Q, ∂E/∂K, ∂E/∂V from them (``joint_vjp``), both block by block so
that each pass over the scores stays in cache; the per-input VJPs are written with
deltagrad's ops, so the primitive also differentiates twice (``create_graph=True``).
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor
from .base import Primitive, Saved, recorded
from .elementwise import _where
from .reduce import _softmax

# Scores are computed, softmaxed and used block by block, a block being as many whole (L, S)
# score matrices as fit in this many bytes (at least one): every pass over a block (scale,
# mask, max, exp, sum, divide, then the products with V) then reads the L2 cache instead of
# main memory, which on one core is what these memory-bound passes cost (measured in
# bench/attention.py: about half of the time of the unblocked version at T = 256).
_BLOCK_BYTES = 1 << 19


def _scores(q, k, scale: float, mask):
    """s = q kᵀ · scale, the disallowed pairs set to −∞ (a boolean mask) or the additive mask
    added (a float one), on Tensors: the differentiable path of the per-input VJPs."""
    s = (q @ k.swapaxes(-1, -2)) * scale
    if mask is None:
        return s
    return _where(mask, s, -np.inf) if mask.dtype == np.bool_ else s + mask


def _weights(q, k, scale, mask):
    """a = softmax(s) along the keys (eq. 11.2–11.3), as Tensors or as ndarrays."""
    if isinstance(q, Tensor) or isinstance(k, Tensor):
        s = _scores(q, k, scale, mask)
        return _softmax(s, axis=(s.ndim - 1,))
    return _attend(q, k, None, scale, mask)[0]


def _heads_layout(shape: tuple, dtype) -> np.ndarray:
    """An empty array of ``shape``; a 4-D (N, H, T, d) one is stored as (N, T, H, d).

    MultiHeadAttention splits its heads with a transpose of (N, T, H, d) and merges them back
    with the inverse transpose and a reshape to (N, T, E): results laid out this way make that
    merge (and the split of the gradients) free views instead of copies.
    """
    if len(shape) != 4:
        return np.empty(shape, dtype)
    n, h, t, d = shape
    return np.empty((n, t, h, d), dtype).transpose(0, 2, 1, 3)


def _blocks(batch: tuple, matrix_bytes: int):
    """Index tuples (slices) over the leading ``batch`` axes, each selecting a block of whole
    score matrices of about ``_BLOCK_BYTES`` (at least one matrix)."""
    per_block = max(1, _BLOCK_BYTES // max(matrix_bytes, 1))
    if not batch:
        yield ()
        return
    if 0 in batch:  # no matrices at all
        return
    last = batch[-1]
    if per_block >= last and len(batch) >= 2:  # whole rows of the last axis at a time
        outer_axes, length, step, tail = batch[:-2], batch[-2], per_block // last, 1
    else:
        outer_axes, length, step, tail = batch[:-1], last, min(per_block, last), 0
    for outer in np.ndindex(*outer_axes):
        head = tuple(slice(i, i + 1) for i in outer)
        for start in range(0, length, step):
            yield head + (slice(start, start + step),) + (slice(None),) * tail


def _part(x, block: tuple):
    """The block of ``x``'s leading axes, where ``x`` (ndim ≥ 2) broadcasts to the batch:
    its missing and size-1 leading axes are kept whole."""
    lead = x.ndim - 2
    index = block[len(block) - lead:] if lead else ()
    return x[tuple(slice(None) if size == 1 else i for size, i in zip(x.shape, index))]


def _softmax_rows_(s):
    """softmax along the last axis in place (eq. 11.2–11.3), shifted by each row's maximum."""
    s -= s.max(axis=-1, keepdims=True)
    np.exp(s, out=s)
    s /= s.sum(axis=-1, keepdims=True)


def _attend(q, k, v, scale, mask):
    """(a, y): the weights a = softmax(q kᵀ · scale (+ mask)) (…, L, S) and, unless v is
    None, y = a v, computed block by block (see ``_BLOCK_BYTES``)."""
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], () if v is None else v.shape[:-2])
    dtype = q.dtype
    length, keys = q.shape[-2], k.shape[-2]
    weights = np.empty(batch + (length, keys), dtype)
    y = None if v is None else _heads_layout(batch + (length, v.shape[-1]), dtype)
    q = q * scale  # (q · scale) kᵀ: the scale costs a pass over q, not over the scores
    k_t = k.swapaxes(-1, -2)
    blocked = None
    if mask is not None:
        mask = mask.reshape((1,) * (2 - mask.ndim) + mask.shape)
        blocked = ~mask if mask.dtype == np.bool_ else None
    for block in _blocks(batch, length * keys * dtype.itemsize):
        s = weights[block]
        np.matmul(_part(q, block), _part(k_t, block), out=s)
        if blocked is not None:
            np.copyto(s, -np.inf, where=_part(blocked, block))
        elif mask is not None:  # an additive (float) mask
            s += _part(mask, block)
        _softmax_rows_(s)
        if y is not None:
            np.matmul(s, _part(v, block), out=y[block])
    return weights, y


def _forward(q, k, v, scale, mask=None, saved=None):
    """y = softmax(q kᵀ · scale (+ mask)) v; keeps the weights a in ``saved`` for the
    backward pass (one (…, L, S) array, the only one of that size)."""
    weights, y = _attend(q, k, v, scale, mask)
    if saved is not None:
        saved.buffers["weights"] = weights
    return y


def _score_gradient(g, a, v):
    """∂E/∂s = a ⊙ (∂E/∂a − Σ_m a_m ∂E/∂a_m), ∂E/∂a = g vᵀ: the softmax's VJP row by row."""
    ga = g @ v.swapaxes(-1, -2)
    return a * (ga - (ga * a).sum(axis=-1, keepdims=True))


def _vjp_q(g, ans, q, k, v, scale, mask=None, saved=None):
    a = _weights(q, k, scale, mask)
    return (_score_gradient(g, a, v) @ k) * scale


def _vjp_k(g, ans, q, k, v, scale, mask=None, saved=None):
    a = _weights(q, k, scale, mask)
    return (_score_gradient(g, a, v).swapaxes(-1, -2) @ q) * scale


def _vjp_v(g, ans, q, k, v, scale, mask=None, saved=None):
    return _weights(q, k, scale, mask).swapaxes(-1, -2) @ g


def _joint_vjp(g, ans, needed, q, k, v, scale, mask=None, saved=None):
    """All three gradients from the forward's weights a, block by block (as the forward):
    ∂E/∂V = aᵀ g; ∂E/∂s = a ⊙ (g vᵀ − D) with D_n = Σ_m a_nm (g_n · v_m) = g_n · y_n, one dot
    product per query instead of a pass over the scores; ∂E/∂Q = (∂E/∂s) K · scale,
    ∂E/∂K = (∂E/∂s)ᵀ Q · scale (the scale applied to the (…, L, d) results)."""
    weights = saved.buffers.get("weights") if saved is not None else None
    if weights is None:
        weights = _weights(q, k, scale, mask)
    batch = weights.shape[:-2]
    dq = _heads_layout(batch + q.shape[-2:], weights.dtype) if needed[0] else None
    dk = _heads_layout(batch + k.shape[-2:], weights.dtype) if needed[1] else None
    dv = _heads_layout(batch + v.shape[-2:], weights.dtype) if needed[2] else None
    scores_needed = needed[0] or needed[1]
    if scores_needed:
        rows = np.einsum("...i,...i->...", g, ans)[..., None]  # D_n = g_n · y_n
        v_t, scratch = v.swapaxes(-1, -2), None
    for block in _blocks(batch, weights.shape[-2] * weights.shape[-1] * weights.itemsize):
        a = weights[block]
        g_part = _part(g, block)
        if dv is not None:
            np.matmul(a.swapaxes(-1, -2), g_part, out=dv[block])
        if scores_needed:
            if scratch is None or scratch.shape != a.shape:
                scratch = np.empty_like(a)
            ds = np.matmul(g_part, _part(v_t, block), out=scratch)
            ds -= rows[block]
            ds *= a
            if dq is not None:
                np.matmul(ds, _part(k, block), out=dq[block])
            if dk is not None:
                np.matmul(ds.swapaxes(-1, -2), _part(q, block), out=dk[block])
    for grad in (dq, dk):
        if grad is not None:
            grad *= scale
    return [dq, dk, dv]


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


@recorded  # made from the step's arguments: a compiled step makes it at every replay
def attention_mask(mask, causal: bool, scores_shape: tuple, owner: str, dtype=None):
    """The mask for scores of shape ``(..., L, S)``, combined with the causal mask (query n
    sees keys m ≤ n) when ``causal``; ``None`` when neither.

    Two kinds, as ``torch.nn.functional.scaled_dot_product_attention``'s ``attn_mask``: a
    boolean mask means "may attend" (True = keep; a masked pair gets weight exactly 0), a float
    mask is added to the scores (−∞ forbids a pair, other values shift its logit); it comes
    back as ``dtype`` (the scores' dtype, when given). Raises a clear error for a mask of
    another dtype, one holding NaN or +∞, one that does not broadcast to the scores, or a
    query row that may attend to nothing (its weights could not sum to 1, eq. 11.3).
    """
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"{owner}: causal must be True or False, got {causal!r}")
    length, keys = scores_shape[-2:]
    if mask is not None:
        mask = _checked_mask(mask, scores_shape, owner, dtype)
    if causal:
        lower = np.tril(np.ones((length, keys), dtype=bool))
        if mask is None:
            mask = lower
        elif mask.dtype == np.bool_:
            mask = mask & lower
        else:
            mask = np.where(lower, mask, -np.inf).astype(mask.dtype, copy=False)
    if mask is not None:
        allowed = mask if mask.dtype == np.bool_ else mask != -np.inf
        if not np.all(np.any(allowed, axis=-1)):
            raise ValueError(f"{owner}: the mask leaves a query with no key to attend to (a "
                             "row of attention weights must sum to 1, eq. 11.3)")
    return mask


def _checked_mask(mask, scores_shape: tuple, owner: str, dtype) -> np.ndarray:
    """A boolean or float mask as an ndarray that broadcasts to the scores (see above)."""
    if isinstance(mask, Tensor):
        if mask.requires_grad:
            raise TypeError(f"{owner}: mask must be a constant (no gradient flows into it); "
                            "pass mask.detach()")
        mask = mask.data
    mask = np.asarray(mask)
    if mask.dtype.kind == "f":
        if np.isnan(mask).any() or (mask == np.inf).any():
            raise ValueError(f"{owner}: a float mask is added to the scores and must hold "
                             "finite numbers or −inf (to forbid a pair), got NaN or +inf")
        if dtype is not None:
            mask = mask.astype(dtype, copy=False)
    elif mask.dtype != np.bool_:
        raise TypeError(f"{owner}: mask must be boolean (True = may attend) or float (added "
                        f"to the scores), got dtype {mask.dtype}")
    if not _broadcasts_to(mask.shape, tuple(scores_shape)):
        raise ValueError(f"{owner}: mask of shape {mask.shape} does not broadcast to the "
                         f"attention scores' shape {tuple(scores_shape)} (…, queries "
                         f"{scores_shape[-2]}, keys {scores_shape[-1]})")
    return mask


def scaled_dot_product_attention(q, k, v, mask=None, causal: bool = False,
                                 scale: float | None = None) -> Tensor:
    """y = softmax(q kᵀ/√d) v (eq. 11.1–11.3), one fused node.

    Args:
        q: queries ``(..., L, d)``; k: keys ``(..., S, d)``; v: values ``(..., S, d_v)``
            (leading dimensions broadcast, as in matmul).
        mask: optional array broadcastable to ``(..., L, S)``, as
            ``torch.nn.functional.scaled_dot_product_attention``'s ``attn_mask``: boolean,
            True means "may attend" (keep) and masked pairs get weight exactly 0; or float,
            added to the scores (−inf forbids a pair).
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
    if k.shape[-2] == 0:
        raise ValueError(f"{owner}: k and v hold no key (shape {k.shape}): a query's weights "
                         "must sum to 1 over at least one key (eq. 11.3)")
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
    mask = attention_mask(mask, causal, batch + (q.shape[-2], k.shape[-2]), owner, q.dtype)
    return sdpa(q, k, v, scale=scale, mask=mask, saved=Saved())
