"""The encoder–decoder transformer (chapter 11): ``TransformerDecoderLayer`` (causal
self-attention, cross-attention to the encoder's output, feed-forward) and
``TransformerSeq2Seq``, which maps a source token sequence to a target one and generates the
target greedily, one token at a time."""

from __future__ import annotations

import numpy as np

from .. import _state
from .. import _validate as check
from ..tensor import Tensor
from .container import Sequential
from .embedding import Embedding, LayerNorm, sequence_input, token_ids
from .linear import Linear
from .module import Module
from .registry import positive, savable
from .transformer import (FEEDFORWARD_ACTIVATIONS, POSITIONAL, TransformerBlock,
                          TransformerEncoderLayer)


@savable()
class TransformerDecoderLayer(TransformerBlock):
    """Masked self-attention over the target, attention to a ``memory`` (the encoder's output)
    and a feed-forward network, each with a residual connection and LayerNorm (as
    ``torch.nn.TransformerDecoderLayer`` with ``batch_first=True``):

        post-norm:  x ← norm1(x + SA(x));  x ← norm2(x + CA(x, m));  x ← norm3(x + FF(x))
        pre-norm:   x ← x + SA(norm1(x));  x ← x + CA(norm2(x), m);  x ← x + FF(norm3(x))

    with CA(x, m) the attention of queries from x to keys and values from m, and
    FF(x) = linear2(dropout(h(linear1(x)))).

    Args: as :class:`TransformerEncoderLayer` (d_model, nhead, dim_feedforward, dropout,
    activation, layer_norm_eps, norm_first, bias, rng, dtype).

    Call ``layer(tgt, memory, mask=None, memory_mask=None, key_mask=None,
    memory_key_mask=None, causal=True)``: ``tgt`` (N, T, E), ``memory`` (N, S, E) → (N, T, E).
    The self-attention is causal by default — position t sees the target positions ≤ t, so
    a decoder trained on the shifted target cannot read the answer (PyTorch needs
    ``tgt_mask=generate_square_subsequent_mask(T)`` for this). The masks are boolean with
    True = "may attend" (see :class:`MultiHeadAttention`): ``mask`` (T, T) and ``key_mask``
    (N, T) on the self-attention, ``memory_mask`` (T, S) and ``memory_key_mask`` (N, S) — the
    source's padding — on the cross-attention.

    Weights have PyTorch's names: ``self_attn``, ``multihead_attn``, ``linear1``,
    ``linear2``, ``norm1``, ``norm2``, ``norm3``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> layer = dg.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16, dropout=0.0, rng=0)
        >>> layer(np.zeros((2, 5, 8)), np.ones((2, 7, 8))).shape
        (2, 5, 8)
    """

    cross = True

    def _self_block(self, x, mask, key_mask, causal) -> Tensor:
        return self.dropout1(self.self_attn(x, mask=mask, key_mask=key_mask, causal=causal))

    def _cross_block(self, x, memory, mask, key_mask) -> Tensor:
        return self.dropout2(self.multihead_attn(x, memory, memory, mask=mask,
                                                 key_mask=key_mask))

    def forward(self, tgt, memory, mask=None, memory_mask=None, key_mask=None,
                memory_key_mask=None, causal: bool = True) -> Tensor:
        E, dtype = self.self_attn.embed_dim, self.linear1.weight.dtype
        x = sequence_input(self, tgt, E, dtype)
        memory = sequence_input(self, memory, E, dtype)
        if x.ndim != 3 or memory.ndim != 3 or x.shape[0] != memory.shape[0]:
            raise ValueError(f"TransformerDecoderLayer: tgt (N, T, E) and memory (N, S, E) must "
                             f"be batches of the same N, got shapes {x.shape} and "
                             f"{memory.shape}")
        causal = check.boolean(causal, "causal", "TransformerDecoderLayer")
        if self.norm_first:
            x = x + self._self_block(self.norm1(x), mask, key_mask, causal)
            x = x + self._cross_block(self.norm2(x), memory, memory_mask, memory_key_mask)
            return x + self._feedforward_block(self.norm3(x))
        x = self.norm1(x + self._self_block(x, mask, key_mask, causal))
        x = self.norm2(x + self._cross_block(x, memory, memory_mask, memory_key_mask))
        return self.norm3(x + self._feedforward_block(x))

    @staticmethod
    def weight_count(E: int, width: int, bias: bool) -> int:
        """Two attentions 8E², FF 2E·width, their biases and 3 norms."""
        return 8 * E * E + 2 * E * width + (15 * E + width if bias else 3 * E)


@savable()
class TransformerSeq2Seq(Module):
    """An encoder–decoder transformer on token ids (as ``torch.nn.Transformer`` with token
    embeddings, positions and an output head around it): the encoder reads the source, the
    decoder reads the target so far and attends to the encoder's output, and a linear head
    gives the next target token's logits.

    Args:
        src_vocab_size, tgt_vocab_size: the two vocabularies (they may be one and the same).
        embed_dim: E; num_heads: H; num_encoder_layers, num_decoder_layers: the blocks.
        max_len: the longest source or target sequence (the positional table's length).
        dim_feedforward: FF width (default 4E). dropout: in every block (default 0).
        positional: ``"sinusoidal"`` (fixed) or ``"learned"`` (one table per side).
        norm_first: pre-norm blocks (default), each stack then ends in a LayerNorm (as
            ``torch.nn.Transformer``); post-norm blocks otherwise.
        activation: FF activation, ``"relu"`` (default) or ``"gelu"``.
        rng, dtype: as :class:`~deltagrad.nn.Linear`.

    Call ``model(src, tgt, src_key_mask=None, tgt_key_mask=None)``: ``src`` ids (N, S),
    ``tgt`` ids (N, T) — in training the target shifted right behind a start token (teacher
    forcing) — gives logits (N, T, V_tgt), position t predicting target token t + 1. The key
    masks are True at real tokens. :meth:`generate` decodes greedily.

    Example:
        >>> import deltagrad as dg
        >>> model = dg.nn.TransformerSeq2Seq(10, 12, 16, 2, 1, 1, max_len=8, rng=0)
        >>> model([[1, 2, 3]], [[11, 4]]).shape
        (1, 2, 12)
        >>> model.generate([[1, 2, 3]], start_token=11, max_new_tokens=4).shape
        (1, 4)
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embed_dim: int,
                 num_heads: int, num_encoder_layers: int, num_decoder_layers: int, max_len: int,
                 dim_feedforward: int | None = None, dropout: float = 0.0,
                 positional: str = "sinusoidal", norm_first: bool = True,
                 activation: str = "relu", rng=None, dtype=None):
        super().__init__()
        owner = "TransformerSeq2Seq"
        V_src = check.positive_int(src_vocab_size, "src_vocab_size", owner)
        V_tgt = check.positive_int(tgt_vocab_size, "tgt_vocab_size", owner)
        E = check.positive_int(embed_dim, "embed_dim", owner)
        self.max_len = check.positive_int(max_len, "max_len", owner)
        encoders = check.positive_int(num_encoder_layers, "num_encoder_layers", owner)
        decoders = check.positive_int(num_decoder_layers, "num_decoder_layers", owner)
        self.positional = check.choice(positional, tuple(POSITIONAL), "positional", owner)
        norm_first = check.boolean(norm_first, "norm_first", owner)
        width = 4 * E if dim_feedforward is None else dim_feedforward
        rng = _state.get_rng(rng, owner)
        block = dict(dim_feedforward=width, dropout=dropout, activation=activation,
                     norm_first=norm_first, rng=rng, dtype=dtype)
        self.src_token = Embedding(V_src, E, rng=rng, dtype=dtype)
        self.tgt_token = Embedding(V_tgt, E, rng=rng, dtype=dtype)
        self.src_position = POSITIONAL[self.positional](self.max_len, E, rng=rng, dtype=dtype)
        self.tgt_position = POSITIONAL[self.positional](self.max_len, E, rng=rng, dtype=dtype)
        self.encoder = Sequential(*[TransformerEncoderLayer(E, num_heads, **block)
                                    for _ in range(encoders)])
        self.decoder = Sequential(*[TransformerDecoderLayer(E, num_heads, **block)
                                    for _ in range(decoders)])
        self.encoder_norm = LayerNorm(E, dtype=dtype) if norm_first else None
        self.decoder_norm = LayerNorm(E, dtype=dtype) if norm_first else None
        self.head = Linear(E, V_tgt, rng=rng, dtype=dtype)

    def _embed(self, ids, side: str) -> Tensor:
        """Token vectors plus positions (N, T, E) for ids (N, T) of the source or target."""
        token = self.src_token if side == "src" else self.tgt_token
        ids = token_ids(ids, token.num_embeddings, f"TransformerSeq2Seq: {side}")
        if ids.ndim != 2 or ids.shape[1] == 0:
            raise ValueError(f"TransformerSeq2Seq: {side} must be token ids of shape (N, T) "
                             f"with T ≥ 1, got shape {ids.shape}")
        if ids.shape[1] > self.max_len:
            raise ValueError(f"TransformerSeq2Seq: a {side} sequence of length {ids.shape[1]} "
                             f"is longer than max_len={self.max_len}")
        position = self.src_position if side == "src" else self.tgt_position
        return position(token(ids))

    def encode(self, src, src_key_mask=None) -> Tensor:
        """The memory (N, S, E): the encoder's output for source ids (N, S)."""
        x = self._embed(src, "src")
        for layer in self.encoder:
            x = layer(x, key_mask=src_key_mask)
        return x if self.encoder_norm is None else self.encoder_norm(x)

    def decode(self, tgt, memory, src_key_mask=None, tgt_key_mask=None) -> Tensor:
        """Next-token logits (N, T, V_tgt) for target ids (N, T) given the memory."""
        x = self._embed(tgt, "tgt")
        if x.shape[0] != memory.shape[0]:
            raise ValueError(f"TransformerSeq2Seq: src and tgt must hold the same number of "
                             f"sequences, got {memory.shape[0]} and {x.shape[0]}")
        for layer in self.decoder:
            x = layer(x, memory, key_mask=tgt_key_mask, memory_key_mask=src_key_mask)
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)
        return self.head(x)

    def forward(self, src, tgt, src_key_mask=None, tgt_key_mask=None) -> Tensor:
        memory = self.encode(src, src_key_mask)
        return self.decode(tgt, memory, src_key_mask, tgt_key_mask)

    def generate(self, src, start_token: int, max_new_tokens: int, end_token: int | None = None,
                 src_key_mask=None) -> np.ndarray:
        """Greedy decoding: from ``start_token``, append the most likely next token until
        ``max_new_tokens`` are made (or every row has made ``end_token``; a finished row is
        filled with ``end_token``).

        Args:
            src: source ids (N, S). start_token, end_token: target ids.
            max_new_tokens: 1 … max_len − 1 (the start token takes one position).
            src_key_mask: (N, S), True at real source tokens.

        Returns:
            the generated target ids (N, L), L ≤ max_new_tokens, without the start token.
        """
        owner = "TransformerSeq2Seq.generate"
        V = self.tgt_token.num_embeddings
        start = int(token_ids(np.array([start_token]), V, f"{owner}: start_token")[0])
        if end_token is not None:
            end_token = int(token_ids(np.array([end_token]), V, f"{owner}: end_token")[0])
        count = check.positive_int(max_new_tokens, "max_new_tokens", owner,
                                   maximum=self.max_len - 1)
        was_training = self.training
        self.eval()
        try:
            with _state.no_grad():
                memory = self.encode(src, src_key_mask)
                tokens = np.full((memory.shape[0], 1), start, dtype=np.int64)
                done = np.zeros(memory.shape[0], dtype=bool)
                for _ in range(count):
                    logits = self.decode(tokens, memory, src_key_mask).data[:, -1]
                    step = np.argmax(logits, axis=-1)
                    if end_token is not None:
                        step = np.where(done, end_token, step)
                        done |= step == end_token
                    tokens = np.concatenate([tokens, step[:, None]], axis=1)
                    if done.all():
                        break
        finally:
            self.train(was_training)
        return tokens[:, 1:]

    def extra_repr(self) -> str:
        return (f"src_vocab_size={self.src_token.num_embeddings}, "
                f"tgt_vocab_size={self.tgt_token.num_embeddings}, max_len={self.max_len}, "
                f"positional={self.positional!r}")

    def config(self) -> dict:
        layer = self.decoder[0]
        return {"src_vocab_size": self.src_token.num_embeddings,
                "tgt_vocab_size": self.tgt_token.num_embeddings,
                "embed_dim": self.head.in_features, "num_heads": layer.self_attn.num_heads,
                "num_encoder_layers": len(self.encoder), "num_decoder_layers": len(self.decoder),
                "max_len": self.max_len, "dim_feedforward": layer.linear1.out_features,
                "dropout": layer.dropout.p, "positional": self.positional,
                "norm_first": layer.norm_first, "activation": layer.activation,
                "dtype": str(self.head.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        V_src = spec.get("src_vocab_size", int, positive)
        V_tgt = spec.get("tgt_vocab_size", int, positive)
        E = spec.get("embed_dim", int, positive)
        layers = [spec.get(key, int, lambda n: 0 < n <= 1000)
                  for key in ("num_encoder_layers", "num_decoder_layers")]
        width = spec.get("dim_feedforward", int, positive)
        max_len = spec.get("max_len", int, positive)
        positional = spec.get("positional", str, POSITIONAL.__contains__)
        spec.reserve((V_src + 2 * V_tgt) * E + layers[0] * (4 * E * E + 2 * E * width)
                     + layers[1] * (8 * E * E + 2 * E * width)
                     + (2 * max_len * E if positional == "learned" else 0))
        return cls(V_src, V_tgt, E, spec.get("num_heads", int, positive), *layers, max_len,
                   dim_feedforward=width, dropout=spec.get("dropout", float, lambda p: 0 <= p < 1),
                   positional=positional, norm_first=spec.get("norm_first", bool),
                   activation=spec.get("activation", str, FEEDFORWARD_ACTIVATIONS.__contains__),
                   dtype=spec.dtype(), rng=0)
