"""Batch normalisation: one fused primitive, forward and VJP side by side.

Over a batch x of shape ``(N, C)`` or ``(N, C, *spatial)``, each channel c is normalised by
the mean μ_c and the *biased* variance σ²_c of its M = N·∏spatial values, then scaled and
shifted (Ioffe & Szegedy 2015, as ``torch.nn.functional.batch_norm``):

    x̂ = (x − μ_c) / √(σ²_c + eps),    y = γ_c x̂ + β_c.

In training the statistics are the batch's own, so every x̂ depends on every input of its
channel; the VJP is the closed form of that dependence (δ = ∂E/∂y):

    ∂E/∂β_c = Σ δ,   ∂E/∂γ_c = Σ δ x̂,
    ∂E/∂x = γ_c / √(σ²_c + eps) · (δ − (1/M) ∂E/∂β_c − x̂ (1/M) ∂E/∂γ_c).

In evaluation the statistics are fixed running averages and the layer is the affine map
y = γ (x − μ)/√(σ² + eps) + β, with ∂E/∂x = δ γ/√(σ² + eps).

Fused for speed (one pass for the statistics, one for x̂, two reductions back); the VJP is raw
NumPy, so differentiating it twice raises a clear error.
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor
from .base import Primitive, Saved, as_floats, recorded


def _channel_axes(ndim: int) -> tuple:
    """The axes a channel's statistics run over: the batch and every spatial axis."""
    return (0,) + tuple(range(2, ndim))


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """A (C,) vector shaped (1, C, 1, …) to broadcast against an ndim-dimensional batch."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def _forward(x, weight, bias, eps, stats=None, saved=None):
    """y = γ x̂ + β; batch statistics when ``stats`` is None (kept in ``saved``: the mean, the
    biased variance and x̂), else ``stats = (mean, var)`` fixed."""
    axes = _channel_axes(x.ndim)
    if stats is None:
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(np.square(xhat), axis=axes, keepdims=True)
        saved.buffers.update(mean=mean.ravel(), var=var.ravel())
    else:
        mean, var = (_per_channel(s, x.ndim) for s in stats)
        xhat = x - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat *= inv_std
    saved.buffers.update(xhat=xhat, inv_std=inv_std)
    y = xhat * _per_channel(weight, x.ndim)
    y += _per_channel(bias, x.ndim)
    return y


def _joint_vjp(g, ans, needed, x, weight, bias, eps, stats=None, saved=None):
    """∂E/∂x, ∂E/∂γ, ∂E/∂β from two reductions (see the module's docstring)."""
    axes = _channel_axes(x.ndim)
    xhat, inv_std = saved.buffers["xhat"], saved.buffers["inv_std"]
    d_bias = g.sum(axis=axes)
    rows = x.shape[:2] + (math.prod(x.shape[2:]),)  # explicit: N may be 0
    d_weight = np.einsum("ncl,ncl->c", g.reshape(rows), xhat.reshape(rows))
    d_x = None
    if needed[0]:
        scale = _per_channel(weight, x.ndim) * inv_std
        if stats is None:  # the batch statistics depend on x too
            M = x.size // x.shape[1]
            d_x = xhat * _per_channel(d_weight / -M, x.ndim)
            d_x += g
            d_x -= _per_channel(d_bias / M, x.ndim)
            d_x *= scale
        else:
            d_x = g * scale
    return [d_x, d_weight if needed[1] else None, d_bias if needed[2] else None]


def _vjp(i: int):
    def vjp(g, ans, *inputs, **params):
        needed = [k == i for k in range(3)]
        return _joint_vjp(g, ans, needed, *inputs, **params)[i]
    return vjp


_batch_norm = Primitive("batch_norm", _forward, _vjp, differentiable_twice=False,
                        joint_vjp=_joint_vjp)


def _check_running(value, name: str, channels: int, dtype) -> np.ndarray:
    if not isinstance(value, np.ndarray) or value.shape != (channels,) or value.dtype != dtype:
        got = (f"shape {value.shape} dtype {value.dtype}" if isinstance(value, np.ndarray)
               else type(value).__name__)
        raise TypeError(f"batch_norm: {name} must be an ndarray of shape ({channels},) and "
                        f"dtype {dtype} (updated in place), got {got}")
    return value


def _channel_tensor(value, name: str, channels: int, dtype, fill: float) -> Tensor:
    if value is None:
        return Tensor._wrap(np.full(channels, fill, dtype=dtype))
    if not isinstance(value, Tensor):
        value = Tensor(value, dtype=dtype)
    value = as_floats(value, dtype)
    if value.shape != (channels,) or value.dtype != dtype:
        raise ValueError(f"batch_norm: {name} must have shape ({channels},) and dtype {dtype}, "
                         f"got shape {value.shape} dtype {value.dtype}")
    return value


def batch_norm(x, running_mean=None, running_var=None, weight=None, bias=None,
               training: bool = False, momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: np.ndarray | None = None) -> Tensor:
    """Batch normalisation of ``x`` ``(N, C)`` or ``(N, C, *spatial)`` per channel C.

    As ``torch.nn.functional.batch_norm``: with ``training=True`` the batch's mean and biased
    variance normalise, and the running statistics (float ndarrays of shape (C,), when given)
    are updated in place, r ← (1 − momentum) r + momentum·s, with the *unbiased* variance
    (· M/(M − 1), M values per channel). With ``training=False`` the running statistics
    normalise. ``weight`` γ and ``bias`` β are (C,) (``None``: 1 and 0).
    ``num_batches_tracked``, a 0-d integer ndarray, counts the training batches (incremented
    in place); with ``momentum=None`` the running statistics are the cumulative average of
    every batch so far (momentum 1/count), as PyTorch's ``momentum=None``.

    Returns:
        y, the same shape as ``x``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> mean, var = np.zeros(1), np.ones(1)
        >>> dg.ops.batch_norm(np.array([[1.0], [3.0]]), mean, var, training=True).data.round(3)
        array([[-1.],
               [ 1.]])
        >>> mean, var  # 0.9·0 + 0.1·2 and 0.9·1 + 0.1·2 (the unbiased variance of 1, 3)
        (array([0.2]), array([1.1]))
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    x = as_floats(x)  # integer and boolean data compute as floats (ops.base.FLOAT)
    if x.ndim < 2 or x.dtype.kind != "f":
        raise ValueError(f"batch_norm: x must be a float batch (N, C) or (N, C, ...), got "
                         f"shape {x.shape} dtype {x.dtype}")
    channels, dtype = x.shape[1], x.dtype
    if (running_mean is None) != (running_var is None):
        raise ValueError("batch_norm: give both running_mean and running_var, or neither")
    if running_mean is not None:
        _check_running(running_mean, "running_mean", channels, dtype)
        _check_running(running_var, "running_var", channels, dtype)
    elif not training:
        raise ValueError("batch_norm: training=False needs running_mean and running_var")
    weight = _channel_tensor(weight, "weight", channels, dtype, 1.0)
    bias = _channel_tensor(bias, "bias", channels, dtype, 0.0)
    saved = Saved()
    if not training:
        return _batch_norm(x, weight, bias, eps=eps, stats=(running_mean, running_var),
                           saved=saved)
    if momentum is None and num_batches_tracked is None:
        raise ValueError("batch_norm: momentum=None (the cumulative average) needs "
                         "num_batches_tracked")
    M = x.size // max(channels, 1)
    if x.size == 0:  # an empty batch: an empty output, the running statistics untouched
        empty_stats = (np.zeros(channels, dtype), np.ones(channels, dtype))
        y = _batch_norm(x, weight, bias, eps=eps, stats=empty_stats, saved=saved)
    elif M < 2:
        raise ValueError(f"batch_norm: training needs more than one value per channel, got "
                         f"input shape {x.shape} (normalising a single value gives 0/0; in "
                         f"fit, a last minibatch of one pattern: choose a batch_size that "
                         f"leaves none)")
    else:
        y = _batch_norm(x, weight, bias, eps=eps, saved=saved)
    if running_mean is not None or num_batches_tracked is not None:
        _update_running(x.data, running_mean, running_var, momentum, num_batches_tracked)
    return y


@recorded  # a layer's own state, updated outside the primitive: a compiled step updates it too
def _update_running(x, running_mean, running_var, momentum, count) -> None:
    """r ← (1 − m) r + m·s in place, s the batch's mean and *unbiased* variance (M/(M − 1)),
    m = ``momentum`` or 1/count (the cumulative average); ``count`` (0-d) += 1. The batch's
    statistics are computed again here, from x, so that a replay recomputes them too."""
    if count is not None:
        count[...] += 1
    if running_mean is None or x.size == 0:
        return
    m = momentum if momentum is not None else 1.0 / int(count)
    axes = _channel_axes(x.ndim)
    M = x.size // x.shape[1]
    running_mean *= 1.0 - m
    running_mean += m * x.mean(axis=axes)
    running_var *= 1.0 - m
    running_var += (m * M / (M - 1)) * x.var(axis=axes)
