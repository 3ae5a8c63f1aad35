"""Transformer blocks (chapter 11): the encoder layer (pre-norm and post-norm) and a
decoder-only language model, ``TransformerLM``, with sampling by ``generate``."""

from __future__ import annotations

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..tensor import Tensor
from .attention import MultiHeadAttention
from .container import Sequential
from .conv import Dropout
from .embedding import (Embedding, LayerNorm, LearnedPositionalEncoding,
                        SinusoidalPositionalEncoding, token_ids)
from .linear import Linear
from .module import Module
from .registry import positive, savable

FEEDFORWARD_ACTIVATIONS = {"relu": ops.relu, "gelu": ops.gelu}
POSITIONAL = {"sinusoidal": SinusoidalPositionalEncoding, "learned": LearnedPositionalEncoding}


class TransformerBlock(Module):
    """What the encoder and decoder layers share: building the parts (PyTorch's names and
    order), the feed-forward block, their description and saving. A subclass says whether it
    has a cross-attention (``cross``) and how many weights in ``weight_count(E, width, bias)``."""

    cross = False  # the decoder's attention to a memory, ``multihead_attn``

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str = "relu", layer_norm_eps: float = 1e-5,
                 norm_first: bool = False, bias: bool = True, rng=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        self.activation = check.choice(activation, tuple(FEEDFORWARD_ACTIVATIONS), "activation",
                                       owner)
        self.norm_first = check.boolean(norm_first, "norm_first", owner)
        rng = _state.get_rng(rng, owner)
        self.self_attn = MultiHeadAttention(d_model, nhead, dropout=dropout, bias=bias, rng=rng,
                                            dtype=dtype)
        E = self.self_attn.embed_dim
        if self.cross:
            self.multihead_attn = MultiHeadAttention(E, nhead, dropout=dropout, bias=bias,
                                                     rng=rng, dtype=dtype)
        width = check.positive_int(dim_feedforward, "dim_feedforward", owner)
        self.linear1 = Linear(E, width, bias=bias, rng=rng, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(width, E, bias=bias, rng=rng, dtype=dtype)
        blocks = 3 if self.cross else 2  # a norm and a dropout after each block
        for k in range(1, blocks + 1):
            setattr(self, f"norm{k}", LayerNorm(E, eps=layer_norm_eps, bias=bias, dtype=dtype))
        for k in range(1, blocks + 1):
            setattr(self, f"dropout{k}", Dropout(dropout, rng=rng))

    def _feedforward_block(self, x) -> Tensor:
        """dropout(linear2(dropout(h(linear1(x))))), the last dropout the last block's."""
        hidden = FEEDFORWARD_ACTIVATIONS[self.activation](self.linear1(x))
        last = self.dropout3 if self.cross else self.dropout2
        return last(self.linear2(self.dropout(hidden)))

    def extra_repr(self) -> str:
        return (f"d_model={self.self_attn.embed_dim}, nhead={self.self_attn.num_heads}, "
                f"dim_feedforward={self.linear1.out_features}, dropout={self.dropout.p}, "
                f"activation={self.activation!r}, norm_first={self.norm_first}")

    def config(self) -> dict:
        return {"d_model": self.self_attn.embed_dim, "nhead": self.self_attn.num_heads,
                "dim_feedforward": self.linear1.out_features, "dropout": self.dropout.p,
                "activation": self.activation, "layer_norm_eps": self.norm1.eps,
                "norm_first": self.norm_first, "bias": self.linear1.bias is not None,
                "dtype": str(self.linear1.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        E, H = spec.get("d_model", int, positive), spec.get("nhead", int, positive)
        width = spec.get("dim_feedforward", int, positive)
        bias = spec.get("bias", bool)
        spec.reserve(cls.weight_count(E, width, bias))
        return cls(E, H, dim_feedforward=width,
                   dropout=spec.get("dropout", float, lambda p: 0 <= p < 1),
                   activation=spec.get("activation", str, FEEDFORWARD_ACTIVATIONS.__contains__),
                   layer_norm_eps=spec.get("layer_norm_eps", float, lambda v: v > 0),
                   norm_first=spec.get("norm_first", bool), bias=bias, dtype=spec.dtype(), rng=0)


@savable()
class TransformerEncoderLayer(TransformerBlock):
    """Self-attention and a position-wise feed-forward network, each with a residual
    connection and LayerNorm (as ``torch.nn.TransformerEncoderLayer`` with ``batch_first=True``):

        post-norm:  x ← norm1(x + SA(x));   x ← norm2(x + FF(x))
        pre-norm:   x ← x + SA(norm1(x));   x ← x + FF(norm2(x))     (``norm_first=True``)

    with FF(x) = linear2(dropout(h(linear1(x)))).

    Args:
        d_model: E; nhead: H (E divisible by H); dim_feedforward: the hidden width of FF.
        dropout: applied to the attention weights, inside FF and on both residual branches.
        activation: ``"relu"`` or ``"gelu"``. layer_norm_eps: the norms' eps.
        norm_first: pre-norm when True. bias: biases in every projection and norm.
        rng, dtype: as :class:`~deltagrad.nn.Linear`.

    Call ``layer(x, mask=None, key_mask=None, causal=False)`` on ``(N, T, E)``; the masks are
    boolean with True = "may attend" (see :class:`MultiHeadAttention`).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> layer = dg.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, rng=0)
        >>> layer(np.zeros((2, 5, 8))).shape
        (2, 5, 8)
    """

    def _attention_block(self, x, mask, key_mask, causal) -> Tensor:
        return self.dropout1(self.self_attn(x, mask=mask, key_mask=key_mask, causal=causal))

    def attention_weights(self, x, mask=None, key_mask=None, causal: bool = False) -> Tensor:
        """The self-attention weights a_nm of each head on input ``x``: ``(N, H, T, T)``."""
        source = self.norm1(x) if self.norm_first else x
        return self.self_attn(source, mask=mask, key_mask=key_mask, causal=causal,
                              need_weights=True)[1]

    def forward(self, x, mask=None, key_mask=None, causal: bool = False) -> Tensor:
        if self.norm_first:
            x = x + self._attention_block(self.norm1(x), mask, key_mask, causal)
            return x + self._feedforward_block(self.norm2(x))
        x = self.norm1(x + self._attention_block(x, mask, key_mask, causal))
        return self.norm2(x + self._feedforward_block(x))

    @staticmethod
    def weight_count(E: int, width: int, bias: bool) -> int:
        """The weights of one layer: attention 4E², FF 2E·width, their biases and 2 norms."""
        return 4 * E * E + 2 * E * width + (9 * E + width if bias else 2 * E)


@savable()
class TransformerLM(Module):
    """A decoder-only transformer: token embedding + positions + causal encoder layers + a
    final LayerNorm (pre-norm) + a linear output head, called on integer ids ``(N, T)`` and
    returning next-token logits ``(N, T, V)``.

    Args:
        vocab_size: V; embed_dim: E; num_heads: H; num_layers: the number of blocks.
        max_len: the longest sequence (the positional table's length).
        dim_feedforward: FF width (default 4E). dropout: as the encoder layer (default 0).
        positional: ``"sinusoidal"`` (fixed) or ``"learned"``.
        norm_first: pre-norm blocks (default) or post-norm.
        causal: True for a language model (position t sees positions ≤ t only); False gives
            a bidirectional encoder that labels every token (e.g. sequence reversal).
        activation: FF activation, ``"gelu"`` (default) or ``"relu"``.
        rng, dtype: as :class:`~deltagrad.nn.Linear`.

    Example:
        >>> import deltagrad as dg
        >>> lm = dg.nn.TransformerLM(12, 16, 2, 1, max_len=10, rng=0)
        >>> lm([[1, 2, 3]]).shape
        (1, 3, 12)
        >>> lm.generate([1, 2, 3], max_new_tokens=4, seed=0).shape
        (7,)
    """

    def __init__(self, vocab_size: int, embed_dim: int, num_heads: int, num_layers: int,
                 max_len: int, dim_feedforward: int | None = None, dropout: float = 0.0,
                 positional: str = "sinusoidal", norm_first: bool = True, causal: bool = True,
                 activation: str = "gelu", rng=None, dtype=None):
        super().__init__()
        owner = "TransformerLM"
        self.vocab_size = check.positive_int(vocab_size, "vocab_size", owner)
        self.max_len = check.positive_int(max_len, "max_len", owner)
        num_layers = check.positive_int(num_layers, "num_layers", owner)
        self.positional = check.choice(positional, tuple(POSITIONAL), "positional", owner)
        self.causal = check.boolean(causal, "causal", owner)
        norm_first = check.boolean(norm_first, "norm_first", owner)
        embed_dim = check.positive_int(embed_dim, "embed_dim", owner)
        width = 4 * embed_dim if dim_feedforward is None else dim_feedforward
        rng = _state.get_rng(rng, owner)
        self.token = Embedding(self.vocab_size, embed_dim, rng=rng, dtype=dtype)
        self.position = POSITIONAL[self.positional](self.max_len, embed_dim, rng=rng, dtype=dtype)
        self.layers = Sequential(*[TransformerEncoderLayer(
            embed_dim, num_heads, width, dropout=dropout, activation=activation,
            norm_first=norm_first, rng=rng, dtype=dtype) for _ in range(num_layers)])
        self.norm = LayerNorm(embed_dim, dtype=dtype) if norm_first else None
        self.head = Linear(embed_dim, self.vocab_size, rng=rng, dtype=dtype)

    def _embed(self, ids) -> Tensor:
        """Token vectors plus positions ``(N, T, E)`` for ids ``(N, T)``, checked."""
        ids = token_ids(ids, self.vocab_size, "TransformerLM")
        if ids.ndim != 2:
            raise ValueError(f"TransformerLM: expects token ids of shape (N, T), got shape "
                             f"{ids.shape}")
        if ids.shape[1] > self.max_len:
            raise ValueError(f"TransformerLM: a sequence of length {ids.shape[1]} is longer "
                             f"than max_len={self.max_len}")
        return self.position(self.token(ids))

    def forward(self, ids, key_mask=None) -> Tensor:
        x = self._embed(ids)
        for layer in self.layers:
            x = layer(x, key_mask=key_mask, causal=self.causal)
        if self.norm is not None:
            x = self.norm(x)
        return self.head(x)

    def attention_maps(self, ids, key_mask=None) -> list:
        """Which token attends to which: for each layer, the weights a_nm of every head,
        ``(N, H, T, T)`` ndarrays (rows sum to 1, eq. 11.3)."""
        maps = []
        with _state.no_grad():
            x = self._embed(ids)
            for layer in self.layers:
                maps.append(layer.attention_weights(x, key_mask=key_mask,
                                                    causal=self.causal).data)
                x = layer(x, key_mask=key_mask, causal=self.causal)
        return maps

    def generate(self, prompt, max_new_tokens: int, temperature: float = 1.0,
                 top_k: int | None = None, seed=None) -> np.ndarray:
        """Extend ``prompt`` token by token, each drawn from softmax(logits / temperature) of
        the last position (the context cropped to the last ``max_len`` tokens).

        Args:
            prompt: token ids ``(T,)`` or a batch ``(N, T)``, T ≥ 1.
            max_new_tokens: how many tokens to append.
            temperature: > 0 sharpens (< 1) or flattens (> 1); 0 picks the most likely token.
            top_k: draw only among the k most likely tokens (None: all).
            seed: an int or Generator for reproducible draws.

        Returns:
            the prompt followed by the new tokens, ``(T + max_new_tokens,)`` or ``(N, ...)``.
        """
        owner = "TransformerLM.generate"
        if not self.causal:
            raise ValueError(f"{owner}: the model was built with causal=False, so position t "
                             "sees later tokens; generation needs causal=True")
        ids = token_ids(prompt, self.vocab_size, owner)
        if ids.ndim in (1, 2) and ids.shape[-1] == 0:
            raise ValueError(f"{owner}: the prompt is empty (shape {ids.shape}); give at least "
                             f"one token id to continue from")
        if ids.ndim not in (1, 2):
            raise ValueError(f"{owner}: prompt must be token ids (T,) or (N, T) with T ≥ 1, "
                             f"got shape {ids.shape}")
        count = check.non_negative(max_new_tokens, "max_new_tokens", owner)
        if count != int(count):
            raise ValueError(f"{owner}: max_new_tokens must be a whole number, got "
                             f"{max_new_tokens!r}")
        temperature = check.non_negative(temperature, "temperature", owner)
        if top_k is not None:
            top_k = check.positive_int(top_k, "top_k", owner, maximum=self.vocab_size)
        rng = _state.get_rng(check.generator(seed, owner), owner)
        tokens = np.atleast_2d(ids).astype(np.int64)
        was_training = self.training
        self.eval()
        try:
            with _state.no_grad():
                for _ in range(int(count)):
                    logits = self(tokens[:, -self.max_len:]).data[:, -1]
                    tokens = np.concatenate([tokens, _draw(logits, temperature, top_k, rng)],
                                            axis=1)
        finally:
            self.train(was_training)
        return tokens if ids.ndim == 2 else tokens[0]

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, max_len={self.max_len}, "
                f"positional={self.positional!r}, causal={self.causal}")

    def config(self) -> dict:
        layer = self.layers[0]
        return {"vocab_size": self.vocab_size, "embed_dim": self.token.embedding_dim,
                "num_heads": layer.self_attn.num_heads, "num_layers": len(self.layers),
                "max_len": self.max_len, "dim_feedforward": layer.linear1.out_features,
                "dropout": layer.dropout.p, "positional": self.positional,
                "norm_first": layer.norm_first, "causal": self.causal,
                "activation": layer.activation, "dtype": str(self.head.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        V, E = spec.get("vocab_size", int, positive), spec.get("embed_dim", int, positive)
        layers = spec.get("num_layers", int, lambda n: 0 < n <= 1000)
        width = spec.get("dim_feedforward", int, positive)
        max_len = spec.get("max_len", int, positive)
        positional = spec.get("positional", str, POSITIONAL.__contains__)
        spec.reserve(2 * V * E + layers * (4 * E * E + 2 * E * width)
                     + (max_len * E if positional == "learned" else 0))
        return cls(V, E, spec.get("num_heads", int, positive), layers, max_len,
                   dim_feedforward=width, dropout=spec.get("dropout", float, lambda p: 0 <= p < 1),
                   positional=positional, norm_first=spec.get("norm_first", bool),
                   causal=spec.get("causal", bool),
                   activation=spec.get("activation", str, FEEDFORWARD_ACTIVATIONS.__contains__),
                   dtype=spec.dtype(), rng=0)


def _draw(logits: np.ndarray, temperature: float, top_k, rng) -> np.ndarray:
    """One token per row of ``logits`` ``(N, V)``: ``(N, 1)``."""
    if temperature == 0:
        return np.argmax(logits, axis=-1)[:, None]
    logits = logits / temperature
    if top_k is not None:
        kth = np.sort(logits, axis=-1)[:, -top_k][:, None]
        logits = np.where(logits < kth, -np.inf, logits)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    return np.array([[rng.choice(len(row), p=row)] for row in p])
