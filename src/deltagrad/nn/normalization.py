"""Batch normalisation layers: BatchNorm1d for (N, C) or (N, C, L), BatchNorm2d for images.

(LayerNorm, which normalises each pattern over its own features, lives beside the embeddings
in ``embedding.py``.)
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .. import ops
from ..tensor import Tensor
from .module import Module, Parameter, layer_input, layer_name
from .registry import positive, savable


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; ``ranks`` are the input ranks each accepts."""

    ranks: tuple = ()
    layout: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, rng=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        self.num_features = check.positive_int(num_features, "num_features", owner)
        self.eps = check.positive(eps, "eps", owner)
        self.momentum = None if momentum is None else check.real(
            momentum, "momentum", owner, low=0.0, high=1.0, high_inclusive=True)
        self.affine = check.boolean(affine, "affine", owner)
        self.track_running_stats = check.boolean(track_running_stats, "track_running_stats",
                                                 owner)
        self._dtype = check.float_dtype(dtype, owner)
        C = self.num_features
        self.weight = Parameter(np.ones(C, dtype=self._dtype)) if self.affine else None
        self.bias = Parameter(np.zeros(C, dtype=self._dtype)) if self.affine else None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype=self._dtype))
            self.register_buffer("running_var", np.ones(C, dtype=self._dtype))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean[...] = 0.0
            self.running_var[...] = 1.0
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, rng=None) -> None:
        """γ = 1, β = 0 (as PyTorch) and the running statistics reset."""
        self.reset_running_stats()
        if self.affine:
            self.weight.data = np.ones_like(self.weight.data)
            self.bias.data = np.zeros_like(self.bias.data)

    def _input(self, x) -> Tensor:
        name = layer_name(self)
        x = layer_input(name, x, self._dtype)
        if x.ndim not in self.ranks or x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expects input of shape {self.layout} with "
                             f"C = {self.num_features}, got shape {x.shape}")
        return x

    def forward(self, x) -> Tensor:
        x = self._input(x)
        batch_stats = self.training or not self.track_running_stats
        tracked = self.training and self.track_running_stats
        running = (None, None) if not self.track_running_stats else \
            (self.running_mean, self.running_var)
        return ops.batch_norm(x, *running, self.weight, self.bias, training=batch_stats,
                              momentum=self.momentum, eps=self.eps,
                              num_batches_tracked=self.num_batches_tracked if tracked else None)

    def extra_repr(self) -> str:
        text = f"{self.num_features}, eps={self.eps}, momentum={self.momentum}"
        if not self.affine:
            text += ", affine=False"
        if not self.track_running_stats:
            text += ", track_running_stats=False"
        return text

    def config(self) -> dict:
        return {"num_features": self.num_features, "eps": self.eps, "momentum": self.momentum,
                "affine": self.affine, "track_running_stats": self.track_running_stats,
                "dtype": str(self._dtype)}

    @classmethod
    def from_config(cls, spec):
        C = spec.get("num_features", int, positive)
        affine = spec.get("affine", bool)
        track = spec.get("track_running_stats", bool)
        spec.reserve(2 * C * (int(affine) + int(track)) + int(track))
        return cls(C, eps=spec.get("eps", float, lambda v: v > 0),
                   momentum=spec.get("momentum", (float, type(None)),
                                     lambda v: v is None or 0 <= v <= 1),
                   affine=affine, track_running_stats=track, dtype=spec.dtype())


@savable()
class BatchNorm1d(_BatchNorm):
    """Batch normalisation of features ``(N, C)`` or of signals ``(N, C, L)``, per channel C.

    In training (``.train()``, and inside ``fit``) each channel is normalised by the batch's
    mean and biased variance, y = γ (x − μ)/√(σ² + eps) + β, and the running estimates are
    updated: r ← (1 − momentum) r + momentum·s, with the *unbiased* batch variance
    (``momentum=None``: the cumulative average over the batches seen). In evaluation
    (``.eval()``, ``predict``, ``evaluate``) the running estimates normalise. Exactly
    ``torch.nn.BatchNorm1d``'s semantics; one fused primitive (``ops.batch_norm``).

    Args:
        num_features: C.
        eps: added to the variance.
        momentum: the running estimates' update weight in [0, 1], or ``None``.
        affine: learn γ (``weight``, ones) and β (``bias``, zeros).
        track_running_stats: keep ``running_mean``, ``running_var`` and
            ``num_batches_tracked`` (buffers: saved, never trained); without them evaluation
            uses the batch's statistics too.
        rng: unused (the initial values are fixed); accepted as every layer accepts it.
        dtype: ``"float64"`` (default) or ``"float32"``.

    Shape:
        input ``(N, C)`` or ``(N, C, L)``; output the same. ``weight``, ``bias``,
        ``running_mean``, ``running_var`` are ``(C,)``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> bn = dg.nn.BatchNorm1d(2)
        >>> bn(np.array([[1.0, 0.0], [3.0, 4.0]])).data.round(4)
        array([[-1., -1.],
               [ 1.,  1.]])
        >>> bn.running_mean
        array([0.2, 0.2])
    """

    ranks = (2, 3)
    layout = "(N, C) or (N, C, L)"


@savable()
class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images ``(N, C, H, W)`` per channel C, over N·H·W values: as
    :class:`BatchNorm1d` (and ``torch.nn.BatchNorm2d``).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> bn = dg.nn.BatchNorm2d(3)
        >>> bn(np.random.default_rng(0).normal(size=(4, 3, 5, 5))).shape
        (4, 3, 5, 5)
    """

    ranks = (4,)
    layout = "(N, C, H, W)"
