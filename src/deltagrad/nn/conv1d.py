"""1-D convolutional layers for signals ``(N, C, L)``: Conv1d, MaxPool1d, AvgPool1d.

Each is its 2-D counterpart on a signal of height 1 (``ops.conv1d``), eq. 7.3 with one row.
"""

from __future__ import annotations

import numpy as np

from .. import ops
from .. import _validate as check
from ..ops.conv1d import check_length, signals, single
from ..tensor import Tensor
from .conv import init_kernels
from .linear import INITS
from .module import Module, Parameter, layer_input, layer_name
from .registry import positive, savable


def _size_field(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10_000


def _signal_input(layer: Module, x, channels: int | None = None, dtype=None) -> Tensor:
    """``x`` as a signal batch Tensor (N, C, L), checked against the layer."""
    name = layer_name(layer)
    x = signals(layer_input(name, x, dtype), "input", name)
    if channels is not None and x.shape[1] != channels:
        raise ValueError(f"{name}: expects {channels} input channels, got {x.shape[1]} "
                         f"(input shape {x.shape})")
    return x


@savable()
class Conv1d(Module):
    """A 1-D convolutional layer: F kernels of length k slid along the signal (eq. 7.3 with
    one row), as ``torch.nn.Conv1d``.

    Args:
        in_channels: C. out_channels: F. kernel_size: k.
        stride, padding: ints (padding adds zeros at both ends).
        bias, rng, dtype, init: as :class:`~deltagrad.nn.Conv2d` (fan-in C·k).

    Shape:
        input ``(N, C, L)``; output ``(N, F, L_out)``, L_out = ⌊(L + 2p − k)/s⌋ + 1.
        ``weight`` is ``(F, C, k)``, ``bias`` ``(F,)`` (PyTorch's layout).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.Conv1d(2, 4, 3, padding=1, rng=0)(np.zeros((5, 2, 16))).shape
        (5, 4, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 bias: bool = True, rng=None, dtype=None, init: str = "he"):
        super().__init__()
        self.in_channels = check.positive_int(in_channels, "in_channels", "Conv1d")
        self.out_channels = check.positive_int(out_channels, "out_channels", "Conv1d")
        self.kernel_size = single(kernel_size, "kernel_size", "Conv1d", 1)
        self.stride = single(stride, "stride", "Conv1d", 1)
        self.padding = single(padding, "padding", "Conv1d", 0)
        self.init = check.choice(init, INITS, "init", "Conv1d")
        check.boolean(bias, "bias", "Conv1d")
        dtype = check.float_dtype(dtype, "Conv1d")
        shape = (self.out_channels, self.in_channels, self.kernel_size)
        self.weight = Parameter(np.zeros(shape, dtype=dtype))
        self.bias = Parameter(np.zeros(self.out_channels, dtype=dtype)) if bias else None
        self.reset_parameters(rng)

    def reset_parameters(self, rng=None) -> None:
        """Uniform kernels (He or Glorot, as :class:`Conv2d`), zero biases."""
        init_kernels(self, rng)

    def forward(self, x) -> Tensor:
        x = _signal_input(self, x, self.in_channels, self.weight.dtype)
        check_length(x.shape[2], self.kernel_size, self.padding, layer_name(self))
        return ops.conv1d(x, self.weight, self.bias, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        if self.stride != 1:
            text += f", stride={self.stride}"
        if self.padding:
            text += f", padding={self.padding}"
        if self.bias is None:
            text += ", bias=False"
        return text

    def config(self) -> dict:
        return {"in_channels": self.in_channels, "out_channels": self.out_channels,
                "kernel_size": self.kernel_size, "stride": self.stride,
                "padding": self.padding, "bias": self.bias is not None,
                "init": self.init, "dtype": str(self.weight.dtype)}

    @classmethod
    def from_config(cls, spec):
        c_in = spec.get("in_channels", int, positive)
        c_out = spec.get("out_channels", int, positive)
        kernel = spec.get("kernel_size", int, positive)
        bias = spec.get("bias", bool)
        spec.reserve(c_out * c_in * kernel + (c_out if bias else 0))
        return cls(c_in, c_out, kernel, stride=spec.get("stride", int, positive),
                   padding=spec.get("padding", int, _size_field), bias=bias,
                   init=spec.get("init", str, INITS.__contains__), dtype=spec.dtype(), rng=0)


class _Pool1d(Module):
    """Shared by the 1-D pooling layers: a window, a stride (default: the window), padding."""

    function = None

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        owner = type(self).__name__
        self.kernel_size = single(kernel_size, "kernel_size", owner, 1)
        self.stride = self.kernel_size if stride is None else single(stride, "stride", owner, 1)
        self.padding = single(padding, "padding", owner, 0)
        if self.padding > self.kernel_size // 2:
            raise ValueError(f"{owner}: padding {self.padding} must be at most half the "
                             f"kernel {self.kernel_size}")

    def forward(self, x) -> Tensor:
        x = _signal_input(self, x)
        check_length(x.shape[2], self.kernel_size, self.padding, layer_name(self))
        return type(self).function(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}"
        if self.stride != self.kernel_size:
            text += f", stride={self.stride}"
        if self.padding:
            text += f", padding={self.padding}"
        return text

    def config(self) -> dict:
        return {"kernel_size": self.kernel_size, "stride": self.stride, "padding": self.padding}

    @classmethod
    def from_config(cls, spec):
        return cls(spec.get("kernel_size", int, positive),
                   stride=spec.get("stride", int, positive),
                   padding=spec.get("padding", int, _size_field))


@savable()
class MaxPool1d(_Pool1d):
    """The largest value in each window of each channel (padding adds −∞), as
    ``torch.nn.MaxPool1d``: ``(N, C, L)`` → ``(N, C, L_out)``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.MaxPool1d(2)(np.zeros((1, 3, 8))).shape
        (1, 3, 4)
    """

    function = staticmethod(ops.max_pool1d)


@savable()
class AvgPool1d(_Pool1d):
    """The mean of each window of each channel (zero padding counted, as
    ``torch.nn.AvgPool1d``): ``(N, C, L)`` → ``(N, C, L_out)``.

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> dg.nn.AvgPool1d(3, stride=1)(np.ones((1, 1, 4))).data
        array([[[1., 1.]]])
    """

    function = staticmethod(ops.avg_pool1d)
