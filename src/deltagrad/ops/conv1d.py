"""Convolution and pooling on signal batches (N, C, L), built on the 2-D primitives.

A signal of length L is an image of height 1: ``conv1d`` views x as (N, C, 1, L) and the
kernels (F, C, k) as (F, C, 1, k), and runs :func:`~deltagrad.ops.conv2d` — eq. 7.3 with one
row, a[n, f, j] = Σ_c Σ_m I[n, c, s·j + m] K[f, c, m] + w₀[f] — so the unfolding, the single
GEMM and its VJPs are exactly Conv2d's (same speed per unit); the reshapes are views and
their VJPs views back. Pooling likewise runs the 2-D pooling primitives with 1×k windows.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..tensor import Tensor
from .base import as_floats
from .conv import avg_pool2d, conv2d, max_pool2d
from .shape import reshape


def single(value, name: str, owner: str, minimum: int) -> int:
    """An int ≥ ``minimum`` (1 for sizes and strides, 0 for padding), or a 1-tuple of one (as
    PyTorch's 1-d layers accept)."""
    item = value[0] if isinstance(value, (tuple, list)) and len(value) == 1 else value
    if not isinstance(item, (int, np.integer)) or isinstance(item, bool) or item < minimum:
        bound = "a positive integer" if minimum else "an integer ≥ 0"
        raise check.InvalidArgument(owner, name, f"must be {bound}", value)
    return int(item)


def signals(x, name: str, owner: str, dtype=None) -> Tensor:
    """``x`` as a float Tensor of shape (N, C, L) (integer and boolean signals converted, as
    every primitive converts them: ``ops.base.FLOAT``), or a clear error naming ``owner``."""
    if not isinstance(x, Tensor):
        try:
            x = Tensor(x, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{owner}: {name} must be numeric (N, C, L): {err}") from None
    if x.ndim != 3:
        raise ValueError(f"{owner}: {name} must be a batch of signals of shape (N, C, L), got "
                         f"shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"{owner}: {name} must hold numbers, got dtype {x.dtype}")
    return as_floats(x, dtype)


def check_length(length: int, kernel: int, padding: int, owner: str) -> None:
    if kernel > length + 2 * padding:
        raise ValueError(f"{owner}: the kernel {kernel} is longer than the padded input "
                         f"{length + 2 * padding} (length {length}, padding {padding})")


def _as_rows(x: Tensor) -> Tensor:
    n, c, length = x.shape
    return reshape(x, shape=(n, c, 1, length))


def _as_signals(y: Tensor) -> Tensor:
    n, c, _, length = y.shape
    return reshape(y, shape=(n, c, length))


def conv1d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """1-D convolution (cross-correlation over the length, summed over input channels).

    Args:
        x: signals ``(N, C, L)``.
        weight: kernels ``(F, C, k)``.
        bias: ``(F,)`` or ``None``.
        stride, padding: ints (zeros added at both ends).

    Returns:
        ``(N, F, L_out)`` with L_out = ⌊(L + 2p − k)/s⌋ + 1.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.conv1d(np.arange(5.0).reshape(1, 1, 5), np.ones((1, 1, 2))).data
        array([[[1., 3., 5., 7.]]])
    """
    owner = "conv1d"
    x = signals(x, "x", owner)
    weight = signals(weight, "weight", owner, dtype=x.dtype)
    stride = single(stride, "stride", owner, 1)
    padding = single(padding, "padding", owner, 0)
    if x.shape[1] != weight.shape[1]:
        raise ValueError(f"{owner}: the kernels expect {weight.shape[1]} input channels, got "
                         f"{x.shape[1]} (x has shape {x.shape}, weight {weight.shape})")
    check_length(x.shape[2], weight.shape[2], padding, owner)
    kernels = reshape(weight, shape=weight.shape[:2] + (1, weight.shape[2]))
    out = conv2d(_as_rows(x), kernels, bias, stride=(1, stride), padding=(0, padding))
    return _as_signals(out)


def _pool_arguments(x, kernel_size, stride, padding, owner: str) -> tuple:
    x = signals(x, "x", owner)
    kernel = single(kernel_size, "kernel_size", owner, 1)
    stride = kernel if stride is None else single(stride, "stride", owner, 1)
    padding = single(padding, "padding", owner, 0)
    if padding > kernel // 2:
        raise ValueError(f"{owner}: padding {padding} must be at most half the kernel {kernel}")
    check_length(x.shape[2], kernel, padding, owner)
    return x, (1, kernel), (1, stride), (0, padding)


def max_pool1d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The largest value in each window: (N, C, L) → (N, C, L_out); ``stride`` defaults to
    ``kernel_size``; padding adds −∞.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.max_pool1d(np.array([[[1.0, 5.0, 2.0, 0.0]]]), 2).data
        array([[[5., 2.]]])
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel_size, stride, padding, "max_pool1d")
    return _as_signals(max_pool2d(_as_rows(x), kernel, stride, padding))


def avg_pool1d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The mean of each window (zero padding counted, as PyTorch): (N, C, L) → (N, C, L_out).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.avg_pool1d(np.array([[[1.0, 5.0, 2.0, 0.0]]]), 2).data
        array([[[3., 1.]]])
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel_size, stride, padding, "avg_pool1d")
    return _as_signals(avg_pool2d(_as_rows(x), kernel, stride, padding))
