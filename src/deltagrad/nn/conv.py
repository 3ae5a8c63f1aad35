"""Convolutional layers (chapter 7): Conv2d, MaxPool2d, AvgPool2d, Flatten and Dropout.

Images are batch-first ``(N, C, H, W)``. A ``Conv2d`` unit is eq. 7.3: one kernel K (shared
by every unit of its feature map) over a receptive field, plus the bias w₀.
"""

from __future__ import annotations

import numpy as np

from .. import _state, ops
from .. import _validate as check
from ..tensor import Tensor
from ..ops.base import recorded
from ..ops.conv import check_fits, pair
from .linear import INITS
from .module import Module, Parameter, layer_input, layer_name
from .registry import NoArguments, positive, savable


def _pair_field(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(
        isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 10_000 for v in value)


def _image_input(layer: Module, x, channels: int | None = None, dtype=None) -> Tensor:
    """``x`` as an image batch Tensor, checked against the layer (rank, channels, dtype)."""
    name = layer_name(layer)
    x = layer_input(name, x, dtype)
    if x.ndim != 4:
        raise ValueError(f"{name}: expects an image batch of shape (N, C, H, W), "
                         f"got shape {x.shape}")
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expects {channels} input channels, got {x.shape[1]} "
                         f"(input shape {x.shape})")
    return x


def init_kernels(layer: Module, rng=None) -> None:
    """A conv layer's (F, C, *k) kernels uniform in (−r, r), r = √(6/fan_in) (He, ``init="he"``)
    or √(6/(fan_in+fan_out)) (Glorot), fan_in = C·∏k, fan_out = F·∏k; its biases 0."""
    rng = _state.get_rng(rng)
    area = int(np.prod(layer.weight.shape[2:]))
    fan_in, fan_out = layer.in_channels * area, layer.out_channels * area
    limit = np.sqrt(6.0 / fan_in) if layer.init == "he" else np.sqrt(6.0 / (fan_in + fan_out))
    layer.weight.data = rng.uniform(-limit, limit, size=layer.weight.shape).astype(
        layer.weight.dtype)
    if layer.bias is not None:
        layer.bias.data = np.zeros_like(layer.bias.data)


@savable()
class Conv2d(Module):
    """A convolutional layer: F feature maps, each one kernel K slid over the image (eq. 7.3).

    Args:
        in_channels: C, the input's channels.
        out_channels: F, the number of kernels (feature maps).
        kernel_size: M (an M×M kernel) or a pair (kh, kw).
        stride, padding: an int or a pair (rows, columns); padding adds zeros.
        bias: whether each feature map learns a bias w₀.
        rng, dtype: as :class:`~deltagrad.nn.Linear`.
        init: ``"he"`` (default, for ReLU) or ``"glorot"``, with fan-in C·kh·kw and
            fan-out F·kh·kw.

    Shape:
        input ``(N, C, H, W)``; output ``(N, F, H_out, W_out)``, H_out = ⌊(H + 2p − kh)/s⌋ + 1.
        ``weight`` is ``(F, C, kh, kw)`` (``weight.data[f, c, l, m]`` is K(l, m) of kernel f on
        channel c), ``bias`` is ``(F,)``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> conv = dg.nn.Conv2d(1, 4, 3, padding=1, rng=0)
        >>> conv(np.zeros((2, 1, 8, 8))).shape
        (2, 4, 8, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, rng=None, dtype=None, init: str = "he"):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels", "Conv2d")
        self.out_channels = check.positive_int(out_channels, "out_channels", "Conv2d")
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = pair(padding, "padding", "Conv2d", 0)
        self.init = check.choice(init, INITS, "init", "Conv2d")
        dtype = check.float_dtype(dtype, "Conv2d")
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        init_kernels(self, rng)

    def forward(self, x) -> Tensor:
        x = _image_input(self, x, self.in_channels, self.weight.dtype)
        check_fits(x.shape, self.kernel_size, self.padding, layer_name(self))
        return ops.conv2d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        text = (f"{self.in_channels}, {self.out_channels}, kernel_size={_show(self.kernel_size)}")
        if self.stride != (1, 1):
            text += f", stride={_show(self.stride)}"
        if self.padding != (0, 0):
            text += f", padding={_show(self.padding)}"
        if self.bias is None:
            text += ", bias=False"
        return text

    def config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding), "bias": self.bias is not None,
                "init": self.init, "dtype": str(self.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        c_in = spec.get("in_channels", int, positive)
        c_out = spec.get("out_channels", int, positive)
        kernel = spec.get("kernel_size", list, _pair_field)
        bias = spec.get("bias", bool)
        spec.reserve(c_out * c_in * kernel[0] * kernel[1] + (c_out if bias else 0))
        return cls(c_in, c_out, tuple(kernel), stride=tuple(spec.get("stride", list, _pair_field)),
                   padding=tuple(spec.get("padding", list, _pair_field)), bias=bias,
                   init=spec.get("init", str, INITS.__contains__), dtype=spec.dtype(), rng=0)


def _show(pair: tuple):
    return pair[0] if pair[0] == pair[1] else pair


class _Pool2d(Module):
    """Shared by the pooling layers: a window, a stride (default: the window) and padding."""

    function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = pair(kernel_size, "kernel_size", owner, 1)
        self.stride = self.kernel_size if stride is None else pair(
            stride, "stride", owner, 1)
        self.padding = pair(padding, "padding", owner, 0)
        if self.padding[0] > self.kernel_size[0] // 2 or self.padding[1] > self.kernel_size[1] // 2:
            raise ValueError(f"{owner}: padding {self.padding} must be at most half the "
                             f"kernel {self.kernel_size}")

    def forward(self, x) -> Tensor:
        x = _image_input(self, x)
        check_fits(x.shape, self.kernel_size, self.padding, layer_name(self))
        return type(self).function(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = f"kernel_size={_show(self.kernel_size)}"
        if self.stride != self.kernel_size:
            text += f", stride={_show(self.stride)}"
        if self.padding != (0, 0):
            text += f", padding={_show(self.padding)}"
        return text

    def config(self) -> dict:
        return {"kernel_size": list(self.kernel_size), "stride": list(self.stride),
                "padding": list(self.padding)}

    @classmethod
    def from_config(cls, spec):
        return cls(tuple(spec.get("kernel_size", list, _pair_field)),
                   stride=tuple(spec.get("stride", list, _pair_field)),
                   padding=tuple(spec.get("padding", list, _pair_field)))


@savable()
class MaxPool2d(_Pool2d):
    """The largest unit in each window of each feature map (padding adds −∞).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.MaxPool2d(2)(np.zeros((1, 3, 8, 8))).shape
        (1, 3, 4, 4)
    """

    function = staticmethod(ops.max_pool2d)


@savable()
class AvgPool2d(_Pool2d):
    """The mean of each window of each feature map (zero padding counted, as PyTorch)."""

    function = staticmethod(ops.avg_pool2d)


@savable()
class Flatten(NoArguments, Module):
    """(N, C, H, W) — or any (N, ...) — to (N, C·H·W), row-major, for a following Linear."""

    def forward(self, x) -> Tensor:
        x = layer_input("Flatten", x)
        if x.ndim < 1:
            raise ValueError(f"Flatten: expects a batch (N, ...), got shape {x.shape}")
        return ops.reshape(x, shape=(x.shape[0], int(np.prod(x.shape[1:]))))  # N = 0 too


@recorded
def dropout_mask(rng, shape: tuple, p: float, dtype) -> np.ndarray:
    """Inverted dropout's mask of ``shape``: 0 with probability p, 1/(1 − p) otherwise, drawn
    from ``rng`` (a Generator, or None for the library's default generator). A recorded source
    (``ops.base.recorded``): a compiled step draws it afresh at every replay, in eager's order.

    Example:
        >>> import numpy as np
        >>> from deltagrad.nn.conv import dropout_mask
        >>> dropout_mask(np.random.default_rng(0), (1, 4), 0.5, np.float64)
        array([[2., 0., 0., 0.]])
    """
    keep = _state.get_rng(rng).random(shape) >= p
    return (keep / (1.0 - p)).astype(dtype)


@savable()
class Dropout(Module):
    """In training mode, zero each input with probability p and scale the rest by 1/(1 − p)
    (inverted dropout); in evaluation mode (``.eval()``), pass the input through unchanged.

    Args:
        p: the probability of dropping an input, in [0, 1).
        rng: an integer seed (kept, and saved with the model), a ``numpy.random.Generator``,
            or ``None`` for the library's default generator.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> drop = dg.nn.Dropout(0.5, rng=0)
        >>> np.unique(drop(np.ones((1, 8))).data)
        array([0., 2.])
        >>> drop.eval()(np.ones((1, 3))).data
        array([[1., 1., 1.]])
    """

    def __init__(self, p: float = 0.5, rng=None):
        super().__init__()
        self.p = check.real(p, "p", "Dropout", low=0.0, high=1.0)
        self.rng = check.generator(rng, "Dropout")
        self.seed = None if rng is None or isinstance(rng, np.random.Generator) else int(rng)

    def forward(self, x) -> Tensor:
        x = layer_input(layer_name(self), x)
        if not self.training or self.p == 0.0:
            return x
        return x * dropout_mask(self.rng, x.shape, self.p, x.dtype)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def config(self) -> dict:
        return {"p": self.p, "seed": self.seed}

    @classmethod
    def from_config(cls, spec):
        p = spec.get("p", float, lambda v: 0 <= v < 1)
        return cls(p, rng=spec.get("seed", (int, type(None)),
                                   lambda v: v is None or v >= 0, default=None))
