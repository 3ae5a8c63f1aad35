"""Convolution and pooling on image batches (N, C, H, W): fused primitives (chapter 7).

``conv2d`` computes eq. 7.3 — the cross-correlation a_jk = Σ_l Σ_m I(j+l, k+m) K(l, m) + w₀,
summed over the input channels too — by *im2col*: every receptive field is unfolded into a
column (a strided view of every window, then one copy) and all units of an image's
feature maps come out of one matrix product, the layer rule a = x Wᵀ + b of eq. 1.2 applied to
patches. Its VJP is the same rule on the unfolded patches (eq. 3.10–3.11): one product per
image for ∂E/∂K, one for ∂E/∂patches, which are then folded back onto the image (col2im) by a
loop over the kernel offsets only (never over pixels, channels or filters).

These are fused for speed and their VJPs are raw NumPy: differentiating them twice
(``create_graph=True``) raises a clear error.

The public functions (:func:`conv2d`, :func:`max_pool2d`, :func:`avg_pool2d`) check their
arguments and compute the patches; the primitives receive the patches (or the arg-max
indices) as a constant input, as the loss primitives receive their cached output.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .. import _validate as check
from ..tensor import Tensor
from .base import Primitive, as_floats, recorded

# ---- shared geometry -------------------------------------------------------------------------


def pair(value, name: str, owner: str, minimum: int) -> tuple:
    """An int or a pair of ints ≥ ``minimum`` (1 for sizes and strides, 0 for padding)."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2:
        raise ValueError(f"{owner}: {name} must be an integer or a pair of integers, "
                         f"got {value!r}")
    checked = []
    for item in items:
        if not isinstance(item, (int, np.integer)) or isinstance(item, bool) or item < minimum:
            bound = "a positive integer" if minimum else "an integer ≥ 0"
            raise check.InvalidArgument(owner, name, f"must be {bound} or a pair of them", value)
        checked.append(int(item))
    return tuple(checked)


def _output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def _padded(x: np.ndarray, padding: tuple, value: float = 0.0) -> np.ndarray:
    """x with ``padding`` rows/columns of ``value`` on each side (np.pad costs several times
    more for these small batches)."""
    ph, pw = padding
    if not ph and not pw:
        return x
    n, c, h, w = x.shape
    out = np.full((n, c, h + 2 * ph, w + 2 * pw), value, dtype=x.dtype)
    out[:, :, ph:ph + h, pw:pw + w] = x
    return out


def _windows(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple,
             pad_value: float = 0.0) -> np.ndarray:
    """Every receptive field as a read-only view: (N, C, H_out, W_out, kh, kw)."""
    x = _padded(x, padding, pad_value)
    n, c, h, w = x.shape
    (kh, kw), (sh, sw) = kernel, stride
    shape = (n, c, (h - kh) // sh + 1, (w - kw) // sw + 1, kh, kw)
    s = x.strides
    return as_strided(x, shape, s[:2] + (s[2] * sh, s[3] * sw, s[2], s[3]), writeable=False)


def _slab(image, l: int, m: int, size: tuple, stride: tuple):
    """The pixels at offset (l, m) of every window: image[:, :, l + s·j, m + s·k] for the
    (H_out, W_out) = ``size`` window positions j, k, as a strided view."""
    (ho, wo), (sh, sw) = size, stride
    return image[:, :, l:l + sh * (ho - 1) + 1:sh, m:m + sw * (wo - 1) + 1:sw]


def _fold(windows_grad, x_shape: tuple, kernel: tuple, stride: tuple,
          padding: tuple) -> np.ndarray:
    """col2im: add each window's gradient (N, C, kh, kw, H_out, W_out) back onto the pixels it
    came from; one strided add of a whole (N, C, H_out, W_out) slab per kernel offset (l, m)."""
    n, c, h, w = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    ho, wo = windows_grad.shape[4:6]
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=windows_grad.dtype)
    for l in range(kh):
        for m in range(kw):
            _slab(out, l, m, (ho, wo), stride)[...] += windows_grad[:, :, l, m]
    return out[:, :, ph:ph + h, pw:pw + w]


def _check_images(x, name: str, owner: str) -> Tensor:
    """``x`` as a float image batch (integer and boolean images converted, as every
    primitive converts them: ``ops.base.FLOAT``)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.ndim != 4:
        raise ValueError(f"{owner}: {name} must be an image batch of shape (N, C, H, W), "
                         f"got shape {x.shape}")
    return as_floats(x)


def check_fits(x_shape, kernel, padding, owner: str) -> None:
    h, w = x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1]
    if kernel[0] > h or kernel[1] > w:
        raise ValueError(f"{owner}: the kernel {kernel[0]}×{kernel[1]} is larger than the "
                         f"padded input {h}×{w} (input {x_shape[2]}×{x_shape[3]}, padding "
                         f"{padding})")


# ---- convolution (eq. 7.3) -------------------------------------------------------------------


# The layout: the patches of image n are the columns of one (C·kh·kw, H_out·W_out) matrix
# P_n, so that a_n = K P_n (K the kernels as (F, C·kh·kw)) comes out of the product already in
# (F, H_out, W_out) order, the NCHW the layer returns (no transposed copy of the output, and
# the incoming gradient is used as it comes); the unfolding copies whole rows of W_out pixels,
# and ∂E/∂P_n = Kᵀ δ_n is, per kernel offset, a whole (C, H_out, W_out) slab for col2im.


def _im2col(x: np.ndarray, kernel: tuple, stride: tuple, padding: tuple) -> np.ndarray:
    """The receptive fields as columns: (N, C·kh·kw, H_out·W_out), C-contiguous."""
    win = _windows(x, kernel, stride, padding)            # (N, C, Ho, Wo, kh, kw)
    n, c, ho, wo, kh, kw = win.shape
    return win.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, ho * wo)


_recorded_im2col = recorded(_im2col)  # a compiled step recomputes it at every replay


def _conv_forward(x, w, cols, b=None, stride=(1, 1), padding=(0, 0)):
    n, f = x.shape[0], w.shape[0]
    ho = _output_size(x.shape[2], w.shape[2], stride[0], padding[0])
    wo = _output_size(x.shape[3], w.shape[3], stride[1], padding[1])
    out = w.reshape(f, -1) @ cols                         # (N, F, Ho·Wo): a GEMM per image
    if b is not None:
        out += b[:, None]
    return out.reshape(n, f, ho, wo)


def _unit_grads(g) -> np.ndarray:
    """δ of every unit as (N, F, H_out·W_out), in the forward product's layout (a view)."""
    return g.reshape(g.shape[0], g.shape[1], g.shape[2] * g.shape[3])  # explicit: N may be 0


def _conv_vjp_x(g, ans, x, w, cols, b=None, stride=(1, 1), padding=(0, 0)):
    """∂E/∂I: each unit sends δ·K back over its receptive field (eq. 3.10 on patches)."""
    n, f, ho, wo = g.shape
    dcols = w.reshape(f, -1).T @ _unit_grads(g)            # (N, C·kh·kw, Ho·Wo)
    return _fold(dcols.reshape(n, *w.shape[1:], ho, wo), x.shape, w.shape[2:], stride, padding)


def _conv_vjp_w(g, ans, x, w, cols, b=None, stride=(1, 1), padding=(0, 0)):
    """∂E/∂K(l, m) = Σ over units δ_jk I(j+l, k+m) (eq. 3.11, summed over shared weights and
    over the images: one small product per image, then their sum)."""
    return (_unit_grads(g) @ cols.swapaxes(1, 2)).sum(axis=0).reshape(w.shape)


def _conv_vjp_b(g, ans, x, w, cols, b=None, stride=(1, 1), padding=(0, 0)):
    """∂E/∂w₀ = Σ over the feature map's units of δ_jk."""
    return g.sum(axis=(0, 2, 3))


_conv2d = Primitive("conv2d", _conv_forward, (_conv_vjp_x, _conv_vjp_w, None, _conv_vjp_b),
                    differentiable_twice=False)


def conv2d(x, weight, bias=None, stride=1, padding=0) -> Tensor:
    """2-D convolution as eq. 7.3 writes it (cross-correlation, summed over input channels).

    a[n, f, j, k] = Σ_c Σ_l Σ_m I[n, c, s·j + l, s·k + m] K[f, c, l, m] + w₀[f], with I
    zero-padded by ``padding`` on each side.

    Args:
        x: images ``(N, C, H, W)``.
        weight: kernels ``(F, C, kh, kw)``.
        bias: ``(F,)`` or ``None``.
        stride, padding: an int or a pair (rows, columns).

    Returns:
        ``(N, F, H_out, W_out)`` with H_out = ⌊(H + 2p − kh)/s⌋ + 1 (likewise W_out).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
        >>> dg.conv2d(x, np.ones((1, 1, 2, 2))).data[0, 0, 0]
        array([10., 14., 18.])
    """
    owner = "conv2d"
    x = _check_images(x, "x", owner)
    weight = _check_images(weight, "weight", owner) if isinstance(weight, Tensor) \
        else _check_images(Tensor(weight, dtype=x.dtype), "weight", owner)
    stride = pair(stride, "stride", owner, 1)
    padding = pair(padding, "padding", owner, 0)
    f, c = weight.shape[:2]
    if x.shape[1] != c:
        raise ValueError(f"{owner}: the kernels expect {c} input channels, got {x.shape[1]} "
                         f"(x has shape {x.shape}, weight {weight.shape})")
    if x.dtype != weight.dtype:
        raise TypeError(f"{owner}: x is {x.dtype} but weight is {weight.dtype}")
    check_fits(x.shape, weight.shape[2:], padding, owner)
    cols = Tensor._wrap(_recorded_im2col(x.data, weight.shape[2:], stride, padding))
    if bias is None:
        return _conv2d(x, weight, cols, stride=stride, padding=padding)
    if not isinstance(bias, Tensor):
        bias = Tensor(bias, dtype=x.dtype)
    if bias.shape != (f,):
        raise ValueError(f"{owner}: bias must have shape ({f},), one per kernel, "
                         f"got {bias.shape}")
    return _conv2d(x, weight, cols, bias, stride=stride, padding=padding)


# ---- pooling ---------------------------------------------------------------------------------


@recorded  # a compiled step recomputes it at every replay
def _max_pool_index(x, kernel, stride, padding):
    """Which input of each window is largest (the first, where several are equal)."""
    win = _windows(x, kernel, stride, padding, -np.inf)
    flat = win.reshape(win.shape[:4] + (kernel[0] * kernel[1],))  # explicit: N = 0 too
    return np.argmax(flat, axis=4)[..., None]


def _max_pool_forward(x, index, kernel, stride, padding):
    """The largest value of each window: the maximum of its kh·kw offset slabs (whole-array
    maxima; NaN propagates, as the arg-max that ``index`` holds picks a NaN)."""
    image = _padded(x, padding, -np.inf)
    size = index.shape[2:4]
    out = _slab(image, 0, 0, size, stride).copy()
    for l in range(kernel[0]):
        for m in range(kernel[1]):
            if l or m:
                np.maximum(out, _slab(image, l, m, size, stride), out=out)
    return out


def _max_pool_vjp(g, ans, x, index, kernel, stride, padding):
    """The whole δ goes to the window's largest input (the first, where several are equal):
    offset by offset, the pixels at that offset of the windows whose arg-max it is get δ
    (assigned where windows do not overlap, the default stride = kernel; added where they do)."""
    n, c, h, w = x.shape
    (kh, kw), (ph, pw) = kernel, padding
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=g.dtype)
    index = index[..., 0]
    overlapping = stride[0] < kh or stride[1] < kw
    for l in range(kh):
        for m in range(kw):
            slab = _slab(out, l, m, g.shape[2:], stride)
            chosen = index == l * kw + m
            if overlapping:
                slab += g * chosen
            else:
                np.multiply(g, chosen, out=slab)
    return out[:, :, ph:ph + h, pw:pw + w]


def _avg_pool_forward(x, kernel, stride, padding):
    return _windows(x, kernel, stride, padding).mean(axis=(4, 5))


def _avg_pool_vjp(g, ans, x, kernel, stride, padding):
    """Each input of a window receives δ / (kh·kw) (padding counts, as PyTorch's default)."""
    share = (g / (kernel[0] * kernel[1]))[:, :, None, None]
    return _fold(np.broadcast_to(share, g.shape[:2] + kernel + g.shape[2:]), x.shape, kernel,
                 stride, padding)


_max_pool2d = Primitive("max_pool2d", _max_pool_forward, (_max_pool_vjp, None),
                        differentiable_twice=False, integer_args=(1,))
_avg_pool2d = Primitive("avg_pool2d", _avg_pool_forward, (_avg_pool_vjp,),
                        differentiable_twice=False)


def _pool_arguments(x, kernel_size, stride, padding, owner: str) -> tuple:
    x = _check_images(x, "x", owner)
    kernel = pair(kernel_size, "kernel_size", owner, 1)
    stride = kernel if stride is None else pair(stride, "stride", owner, 1)
    padding = pair(padding, "padding", owner, 0)
    if padding[0] > kernel[0] // 2 or padding[1] > kernel[1] // 2:
        raise ValueError(f"{owner}: padding {padding} must be at most half the kernel "
                         f"{kernel}")
    check_fits(x.shape, kernel, padding, owner)
    return x, kernel, stride, padding


def max_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The largest value in each window: (N, C, H, W) → (N, C, H_out, W_out).

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows); padding adds −∞.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2).data[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel_size, stride, padding, "max_pool2d")
    index = _max_pool_index(x.data, kernel, stride, padding)
    return _max_pool2d(x, Tensor._wrap(index), kernel=kernel, stride=stride, padding=padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0) -> Tensor:
    """The mean of each window (zero padding counted): (N, C, H, W) → (N, C, H_out, W_out).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.avg_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2).data[0, 0]
        array([[ 2.5,  4.5],
               [10.5, 12.5]])
    """
    x, kernel, stride, padding = _pool_arguments(x, kernel_size, stride, padding, "avg_pool2d")
    return _avg_pool2d(x, kernel=kernel, stride=stride, padding=padding)
