"""Token and position layers for sequences (chapter 11): Embedding, LayerNorm, and the
sinusoidal and learned positional encodings.

Sequences are batch-first: token ids ``(N, T)``, token vectors ``(N, T, E)``.
"""

from __future__ import annotations

import abc

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..tensor import Tensor
from .module import Module, Parameter, layer_input, layer_name
from .registry import positive, savable


def token_ids(ids, vocab_size: int, owner: str) -> np.ndarray:
    """``ids`` as an integer ndarray with every entry in 0 … vocab_size − 1, or a clear error."""
    array = ids.data if isinstance(ids, Tensor) else np.asarray(ids)
    if array.dtype.kind == "f" and np.all(array == np.round(array)):  # empty ids too
        array = array.astype(np.int64)  # whole numbers given as floats (e.g. from predict)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{owner}: token ids must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= vocab_size):
        bad = array.min() if array.min() < 0 else array.max()
        raise ValueError(f"{owner}: token id {bad} is outside the vocabulary 0 … "
                         f"{vocab_size - 1}")
    return array


def sequence_input(layer: Module, x, features: int, dtype) -> Tensor:
    """``x`` as a float Tensor ``(..., T, features)`` of the layer's dtype, or a clear error."""
    name = layer_name(layer)
    x = layer_input(name, x, dtype)
    if x.ndim < 2 or x.shape[-1] != features:
        raise ValueError(f"{name}: expects inputs of shape (..., T, {features}), "
                         f"got shape {x.shape}")
    return x


@savable()
class Embedding(Module):
    """A lookup table: token id i → row i of ``weight`` (a learned vector per token).

    Args:
        num_embeddings: the vocabulary size V.
        embedding_dim: E, the length of each vector.
        rng, dtype: as :class:`~deltagrad.nn.Linear`. Rows start N(0, 1), as PyTorch.
        padding_idx: the id of the padding token (negative counts from the end, as
            PyTorch), or None. Its row starts at zeros and gets no gradient: padding never
            learns, whatever the loss does at padded places (as ``torch.nn.Embedding``).

    Shape:
        input integer ids of any shape ``(...)``; output ``(..., E)``. ``weight`` is ``(V, E)``.
        The gradient of a row is the sum over every place its id occurs (zero for the
        ``padding_idx`` row).

    Example:
        >>> import deltagrad as dg
        >>> dg.nn.Embedding(10, 4, rng=0)([[1, 2, 3]]).shape
        (1, 3, 4)
        >>> emb = dg.nn.Embedding(10, 2, padding_idx=0, rng=0)
        >>> emb([[0, 5]]).sum().backward(); emb.weight.grad[[0, 5]]
        array([[0., 0.],
               [1., 1.]])
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=None,
                 padding_idx: int | None = None):
        super().__init__()
        self.num_embeddings = check.positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check.positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = self._padding(padding_idx)
        dtype = check.float_dtype(dtype, "Embedding")
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim), dtype=dtype))
        self.reset_parameters(rng)

    def _padding(self, padding_idx) -> int | None:
        """``padding_idx`` in 0 … V − 1 (−V … −1 count from the end), or None."""
        if padding_idx is None:
            return None
        V = self.num_embeddings
        if not check._is_integer(padding_idx) or not -V <= padding_idx < V:
            raise check.InvalidArgument("Embedding", "padding_idx",
                                        f"must be None or an integer id in [-{V}, {V - 1}]",
                                        padding_idx)
        return int(padding_idx) % V

    def reset_parameters(self, rng=None) -> None:
        """Rows N(0, 1); the ``padding_idx`` row zeros (as PyTorch)."""
        rng = _state.get_rng(rng, "Embedding")
        self.weight.data = rng.standard_normal(self.weight.shape).astype(self.weight.dtype)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    def forward(self, ids) -> Tensor:
        ids = token_ids(ids, self.num_embeddings, layer_name(self))
        rows = ops.getitem(self.weight, ids)
        if self.padding_idx is None:
            return rows
        # the padding row's values, held as a constant: its places pass no gradient back
        padding = self.weight.data[self.padding_idx]
        return ops.where((ids != self.padding_idx)[..., None], rows, padding)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"

    def config(self) -> dict:
        return {"num_embeddings": self.num_embeddings, "embedding_dim": self.embedding_dim,
                "padding_idx": self.padding_idx, "dtype": str(self.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        v, e = spec.get("num_embeddings", int, positive), spec.get("embedding_dim", int, positive)
        padding_idx = spec.get("padding_idx", (int, type(None)),
                               lambda i: i is None or 0 <= i < v, default=None)
        spec.reserve(v * e)
        return cls(v, e, dtype=spec.dtype(), rng=0, padding_idx=padding_idx)


@savable()
class LayerNorm(Module):
    """Normalise each token's features to mean 0 and variance 1, then scale and shift:
    y = (x − mean) / √(var + eps) · weight + bias, over the last ``len(normalized_shape)`` axes
    (the biased variance, as PyTorch).

    Args:
        normalized_shape: an int D (the last axis) or a tuple of trailing dimensions.
        eps: added to the variance.
        elementwise_affine: learn ``weight`` (ones) and ``bias`` (zeros).
        bias: learn ``bias`` (with ``elementwise_affine``).
        rng: unused (the initial values are fixed); accepted as every layer accepts it.
        dtype: ``"float64"`` (default) or ``"float32"``.

    Shape:
        input ``(..., *normalized_shape)``, any leading dimensions (none included: one
        vector); output the same shape.

    Example:
        >>> import deltagrad as dg
        >>> dg.nn.LayerNorm(2)([[1.0, 3.0]]).data.round(4)
        array([[-1.,  1.]])
        >>> dg.nn.LayerNorm(2)([1.0, 3.0]).data.round(4)
        array([-1.,  1.])
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, rng=None, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if not isinstance(normalized_shape, (tuple, list)) \
            else tuple(normalized_shape)
        if not shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one dimension")
        self.normalized_shape = tuple(check.positive_int(n, "normalized_shape", "LayerNorm")
                                      for n in shape)
        self.eps = check.positive(eps, "eps", "LayerNorm")
        self.elementwise_affine = check.boolean(elementwise_affine, "elementwise_affine",
                                                "LayerNorm")
        check.boolean(bias, "bias", "LayerNorm")
        self._dtype = check.float_dtype(dtype, "LayerNorm")
        self.weight = self.bias = None
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=self._dtype))
            if bias:
                self.bias = Parameter(np.zeros(self.normalized_shape, dtype=self._dtype))

    def forward(self, x) -> Tensor:
        shape = self.normalized_shape
        x = layer_input(layer_name(self), x, self._dtype)  # any leading shape, (D,) included
        if x.ndim < len(shape) or x.shape[-len(shape):] != shape:
            raise ValueError(f"{layer_name(self)}: expects inputs ending in {shape}, got "
                             f"shape {x.shape}")
        axes = tuple(range(x.ndim - len(shape), x.ndim))
        centred = x - ops.mean(x, axis=axes, keepdims=True)
        y = centred / ops.sqrt(ops.var(x, axis=axes, keepdims=True) + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y

    def extra_repr(self) -> str:
        shape = self.normalized_shape
        text = f"{shape[0] if len(shape) == 1 else shape}, eps={self.eps}"
        if not self.elementwise_affine:
            text += ", elementwise_affine=False"
        elif self.bias is None:
            text += ", bias=False"
        return text

    def config(self) -> dict:
        return {"normalized_shape": list(self.normalized_shape), "eps": self.eps,
                "elementwise_affine": self.elementwise_affine, "bias": self.bias is not None,
                "dtype": str(self._dtype)}

    @classmethod
    def from_config(cls, spec):
        shape = spec.get("normalized_shape", list, lambda v: 0 < len(v) <= 8 and all(
            isinstance(n, int) and n > 0 for n in v))
        affine = spec.get("elementwise_affine", bool)
        bias = spec.get("bias", bool)
        spec.reserve(int(np.prod(shape)) * (int(affine) + int(affine and bias)))
        return cls(tuple(shape), eps=spec.get("eps", float, lambda v: v > 0),
                   elementwise_affine=affine, bias=bias, dtype=spec.dtype())


def sinusoidal_table(max_len: int, embed_dim: int, dtype=np.float64) -> np.ndarray:
    """PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(t / 10000^(2i/E)): ``(max_len, E)``."""
    position = np.arange(max_len)[:, None]
    frequency = np.exp(-np.log(10000.0) * np.arange(0, embed_dim, 2) / embed_dim)
    table = np.zeros((max_len, embed_dim))
    table[:, 0::2] = np.sin(position * frequency)
    table[:, 1::2] = np.cos(position * frequency[: embed_dim // 2])
    return table.astype(dtype)


class _PositionalEncoding(Module):
    """Adds a vector per position to token vectors ``(N, T, E)``; T must be ≤ max_len."""

    learned = False  # whether the table is a weight (saved with the model)

    def __init__(self, max_len: int, embed_dim: int, dtype):
        super().__init__()
        owner = type(self).__name__
        self.max_len = check.positive_int(max_len, "max_len", owner)
        self.embed_dim = check.positive_int(embed_dim, "embed_dim", owner)
        self._dtype = check.float_dtype(dtype, owner)

    @abc.abstractmethod
    def table(self) -> Tensor:
        """The ``(max_len, E)`` table of position vectors that ``forward`` adds."""

    def forward(self, x) -> Tensor:
        x = sequence_input(self, x, self.embed_dim, self._dtype)
        length = x.shape[-2]
        if length > self.max_len:
            raise ValueError(f"{layer_name(self)}: a sequence of length {length} is longer "
                             f"than the positional table (max_len={self.max_len})")
        return x + ops.getitem(self.table(), slice(0, length))

    def extra_repr(self) -> str:
        return f"max_len={self.max_len}, embed_dim={self.embed_dim}"

    def config(self) -> dict:
        return {"max_len": self.max_len, "embed_dim": self.embed_dim, "dtype": str(self._dtype)}

    @classmethod
    def from_config(cls, spec):
        max_len = spec.get("max_len", int, positive)
        embed_dim = spec.get("embed_dim", int, positive)
        if cls.learned:
            spec.reserve(max_len * embed_dim)
        return cls(max_len, embed_dim, dtype=spec.dtype())


@savable()
class SinusoidalPositionalEncoding(_PositionalEncoding):
    """Adds the fixed sinusoids of "Attention is all you need" (no weights; see
    :func:`sinusoidal_table`).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.SinusoidalPositionalEncoding(8, 4)(np.zeros((1, 2, 4))).data[0, 1].round(3)
        array([0.841, 0.54 , 0.01 , 1.   ])
    """

    def __init__(self, max_len: int, embed_dim: int, rng=None, dtype=None):
        super().__init__(max_len, embed_dim, dtype)
        self._table = Tensor._wrap(sinusoidal_table(self.max_len, self.embed_dim, self._dtype))

    def table(self) -> Tensor:
        return self._table


@savable()
class LearnedPositionalEncoding(_PositionalEncoding):
    """Adds a learned vector per position, ``weight`` ``(max_len, E)``, initially N(0, 0.02²).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.LearnedPositionalEncoding(8, 4, rng=0)(np.zeros((2, 3, 4))).shape
        (2, 3, 4)
    """

    learned = True

    def __init__(self, max_len: int, embed_dim: int, rng=None, dtype=None):
        super().__init__(max_len, embed_dim, dtype)
        self.weight = Parameter(np.zeros((self.max_len, self.embed_dim), dtype=self._dtype))
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        rng = _state.get_rng(rng, "LearnedPositionalEncoding")
        self.weight.data = (0.02 * rng.standard_normal(self.weight.shape)).astype(self._dtype)

    def table(self) -> Parameter:
        return self.weight
