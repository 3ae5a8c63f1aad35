"""Multi-head attention (chapter 11): H heads of scaled dot-product attention side by side.

Each head h projects the tokens to queries, keys and values of E/H features, takes
y_n = Σ_m a_nm v_m with a_nm = softmax_m(q_n · k_m / √(E/H)) (eq. 11.1–11.3), and the heads'
outputs, concatenated, pass through one output projection.
"""

from __future__ import annotations

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..ops.attention import scaled_dot_product_attention
from ..tensor import Tensor
from . import functional
from .conv import Dropout
from .embedding import sequence_input
from .linear import Linear
from .module import Module, Parameter, layer_name
from .registry import positive, savable


@ops.base.recorded  # made from the step's arguments: a compiled step makes it at every replay
def head_mask(mask, key_mask, batch: int, owner: str, dtype=np.float64, keys=None):
    """One mask broadcastable to ``(N, H, L, S)`` from ``mask`` (``(L, S)``, ``(N, L, S)`` or
    ``(N, H, L, S)``) and ``key_mask`` (``(N, S)``); ``None`` when both are ``None``.

    Each is boolean (True = may attend; for ``key_mask`` a real token, False = padding) or
    float (added to the scores, as PyTorch's float ``attn_mask`` and ``key_padding_mask``).
    Two boolean masks combine with ``&``; when either is float both become additive (a
    boolean False is −inf) and add up, in ``dtype``.
    """
    parts = []
    if mask is not None:
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.ndim == 3:
            mask = mask[:, None]
        elif mask.ndim not in (2, 4):
            raise ValueError(f"{owner}: mask must have shape (L, S), (N, L, S) or (N, H, L, S), "
                             f"got shape {mask.shape}")
        parts.append(mask)
    if key_mask is not None:
        key_mask = np.asarray(key_mask.data if isinstance(key_mask, Tensor) else key_mask)
        if key_mask.ndim != 2 or key_mask.shape[0] != batch or (
                keys is not None and key_mask.shape[1] != keys):
            want = "S" if keys is None else f"S={keys}"
            raise ValueError(f"{owner}: key_mask must have shape (N={batch}, {want}), one entry "
                             f"per key, got shape {key_mask.shape}")
        parts.append(key_mask[:, None, None, :])
    for part in parts:
        if part.dtype != np.bool_ and part.dtype.kind != "f":
            raise TypeError(f"{owner}: masks must be boolean (True = may attend) or float "
                            f"(added to the scores), got dtype {part.dtype}")
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if all(part.dtype == np.bool_ for part in parts):
        return parts[0] & parts[1]
    additive = [np.where(part, 0.0, -np.inf) if part.dtype == np.bool_ else part
                for part in parts]
    return (additive[0] + additive[1]).astype(dtype, copy=False)


def refuse_queries_without_keys(owner: str, allowed, causal: bool, queries: int, keys: int,
                                key_mask_given: bool) -> None:
    """A query that may attend to no key has no attention weights (a row of eq. 11.3 must sum
    to 1): refuse it here, in the words of the masks the caller gave — with a causal model
    and a key_mask, the usual cause is padding on the left."""
    try:
        shape = np.broadcast_shapes(allowed.shape, (queries, keys))
    except (AttributeError, ValueError):  # no mask, or one the attention's check names
        return
    if allowed.dtype != np.bool_:  # an additive (float) mask: −inf forbids a pair
        allowed = allowed > -np.inf
    if causal:
        allowed = allowed & np.tril(np.ones((queries, keys), dtype=bool))
    rows = np.any(np.broadcast_to(allowed, shape), axis=-1)
    if rows.all():
        return
    empty = np.argwhere(~rows)[0]
    where = f"query {empty[-1]}" + (f" of sequence {empty[0]}" if rows.ndim == 3 else "")
    if key_mask_given and causal:
        raise ValueError(f"{owner}: {where} may attend to no key: with causal=True a query "
                         f"sees only the keys up to its own position, and key_mask marks all "
                         f"of those as padding (False) — the sequence is padded on the left. "
                         f"Pad on the right (real tokens first, key_mask False at the end)")
    given = "key_mask" if key_mask_given else "mask"
    raise ValueError(f"{owner}: {where} may attend to no key: {given} is False at every key "
                     f"{'it may see' if causal else 'for it'}; each query needs at least one")


@savable()
class MultiHeadAttention(Module):
    """Multi-head scaled dot-product attention, batch-first (as ``torch.nn.MultiheadAttention``
    with ``batch_first=True``).

    Args:
        embed_dim: E, the features of each token.
        num_heads: H; E must be divisible by H (each head has E/H features).
        dropout: probability of dropping an attention weight in training mode.
        bias: learn biases on the input and output projections.
        rng, dtype: as :class:`~deltagrad.nn.Linear`.

    Weights (PyTorch's names): ``in_proj_weight`` ``(3E, E)`` (rows: queries, keys, values),
    ``in_proj_bias`` ``(3E,)``, ``out_proj`` a ``Linear(E, E)``.

    Call ``attn(query, key=None, value=None, mask=None, key_mask=None, causal=False,
    need_weights=False)``: query ``(N, L, E)``, key and value ``(N, S, E)`` (default: the
    query: self-attention). ``mask`` is ``(L, S)``, ``(N, L, S)`` or ``(N, H, L, S)`` and
    ``key_mask`` ``(N, S)``; boolean, True means "may attend" (keep), as
    ``torch.nn.functional.scaled_dot_product_attention`` (PyTorch's ``MultiheadAttention``
    takes the opposite convention for booleans); float, added to the scores (−inf forbids a
    pair), as a float ``attn_mask`` / ``key_padding_mask`` in both of PyTorch's functions.
    Returns ``(N, L, E)``, or with ``need_weights`` the pair (output, weights ``(N, H, L, S)``
    per head, not averaged).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> attn = dg.nn.MultiHeadAttention(8, 2, rng=0)
        >>> attn(np.zeros((3, 5, 8)), causal=True).shape
        (3, 5, 8)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 rng=None, dtype=None):
        super().__init__()
        owner = "MultiHeadAttention"
        self.embed_dim = check.positive_int(embed_dim, "embed_dim", owner)
        self.num_heads = check.positive_int(num_heads, "num_heads", owner)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{owner}: embed_dim {self.embed_dim} is not divisible by "
                             f"num_heads {self.num_heads}")
        self.dropout = check.real(dropout, "dropout", owner, low=0.0, high=1.0)
        check.boolean(bias, "bias", owner)
        dtype = check.float_dtype(dtype, owner)
        rng = _state.get_rng(rng, owner)
        E = self.embed_dim
        self.in_proj_weight = Parameter(np.zeros((3 * E, E), dtype=dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype=dtype)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, rng=rng, dtype=dtype)
        self.attn_dropout = Dropout(self.dropout, rng=rng)
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        """Glorot-uniform input projection over its (3E, E) shape and zero biases (PyTorch's
        choice); the output projection as ``Linear``."""
        rng = _state.get_rng(rng, "MultiHeadAttention")
        limit = np.sqrt(6.0 / (4 * self.embed_dim))
        w = self.in_proj_weight
        w.data = rng.uniform(-limit, limit, size=w.shape).astype(w.dtype)
        if self.in_proj_bias is not None:
            self.in_proj_bias.data = np.zeros_like(self.in_proj_bias.data)
        self.out_proj.reset_parameters(rng)

    def _project(self, x: Tensor, part: int) -> Tensor:
        """Queries (part 0), keys (1) or values (2) split into heads: ``(N, H, T, E/H)``."""
        E, H = self.embed_dim, self.num_heads
        rows = slice(part * E, (part + 1) * E)
        w = ops.getitem(self.in_proj_weight, rows)
        y = ops.linear(x, w) if self.in_proj_bias is None else ops.linear(
            x, w, ops.getitem(self.in_proj_bias, rows))
        return ops.transpose(ops.reshape(y, shape=x.shape[:-1] + (H, E // H)), (0, 2, 1, 3))

    def forward(self, query, key=None, value=None, mask=None, key_mask=None,
                causal: bool = False, need_weights: bool = False):
        dtype = self.in_proj_weight.dtype
        query = self._checked(query, "query", dtype)
        key = query if key is None else self._checked(key, "key", dtype)
        value = key if value is None else self._checked(value, "value", dtype)
        if key.shape[:2] != value.shape[:2] or key.shape[0] != query.shape[0]:
            raise ValueError(f"{layer_name(self)}: query (N, L, E), key and value (N, S, E) "
                             f"do not fit: got shapes {query.shape}, {key.shape}, "
                             f"{value.shape}")
        q, k, v = self._project(query, 0), self._project(key, 1), self._project(value, 2)
        combined = head_mask(mask, key_mask, query.shape[0], layer_name(self), dtype,
                             keys=key.shape[1])
        refuse_queries_without_keys(layer_name(self), combined, causal, query.shape[1],
                                    key.shape[1], key_mask is not None)
        weights = None
        if need_weights or (self.training and self.dropout > 0):
            scale = 1.0 / float(np.sqrt(self.embed_dim // self.num_heads))
            weights = functional.attention_weights(
                ops.matmul(q, k.swapaxes(-1, -2)) * scale, combined, causal)
            y = ops.matmul(self.attn_dropout(weights), v)
        else:
            y = scaled_dot_product_attention(q, k, v, mask=combined, causal=causal)
        y = ops.reshape(ops.transpose(y, (0, 2, 1, 3)), shape=query.shape)
        out = self.out_proj(y)
        return (out, weights) if need_weights else out

    def _checked(self, x, name: str, dtype) -> Tensor:
        x = sequence_input(self, x, self.embed_dim, dtype)
        if x.ndim != 3:
            raise ValueError(f"{layer_name(self)}: {name} must have shape "
                             f"(N, T, {self.embed_dim}), got shape {x.shape}")
        return x

    def extra_repr(self) -> str:
        text = f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.in_proj_bias is None:
            text += ", bias=False"
        return text

    def config(self) -> dict:
        return {"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                "dropout": self.dropout, "bias": self.in_proj_bias is not None,
                "dtype": str(self.in_proj_weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        E = spec.get("embed_dim", int, positive)
        H = spec.get("num_heads", int, positive)
        bias = spec.get("bias", bool)
        spec.reserve(4 * E * E + (4 * E if bias else 0))
        return cls(E, H, dropout=spec.get("dropout", float, lambda p: 0 <= p < 1), bias=bias,
                   dtype=spec.dtype(), rng=0)
