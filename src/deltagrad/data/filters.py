"""Hand-set 3×3 kernels (§7.2) and a one-unit edge detector z = ReLU(a) built from them (eq. 7.4).

The kernels are oriented for ``conv2d`` (cross-correlation, eq. 7.3): the ``"vertical"``
Sobel kernel responds positively where the image grows from left to right (a vertical edge,
dark on the left), the ``"horizontal"`` one where it grows from top to bottom.

Example:
    >>> from deltagrad.data import filters
    >>> filters.kernel("sobel_vertical")
    array([[-1.,  0.,  1.],
           [-2.,  0.,  2.],
           [-1.,  0.,  1.]])
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from .. import nn

_SOBEL = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])
_PREWITT = np.array([[-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0], [-1.0, 0.0, 1.0]])

KERNELS = {
    "sobel_vertical": _SOBEL,
    "sobel_horizontal": _SOBEL.T.copy(),
    "prewitt_vertical": _PREWITT,
    "prewitt_horizontal": _PREWITT.T.copy(),
    "laplacian": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
}


def kernel(name: str) -> np.ndarray:
    """A copy of the 3×3 kernel K called ``name`` (one of :data:`KERNELS`)."""
    return KERNELS[check.choice(name, KERNELS, "kernel name", "filters.kernel")].copy()


def edge_detector(name: str, threshold: float = 0.5, dtype=None) -> nn.Sequential:
    """One feature detector as §7.2 builds it: a ``Conv2d`` unit with the hand-set kernel
    ``name`` and bias w₀ = −threshold, followed by ReLU, so z_jk = ReLU(a_jk) is non-zero only
    where the receptive field matches the kernel by more than ``threshold`` (eq. 7.3–7.4).

    Input ``(N, 1, H, W)``; output ``(N, 1, H − 2, W − 2)``; the modules are named
    ``conv`` and ``relu``.

    Example:
        >>> import numpy as np
        >>> from deltagrad.data import filters
        >>> step = np.zeros((1, 1, 4, 6)); step[..., 3:] = 1.0   # dark left, bright right
        >>> filters.edge_detector("sobel_vertical")(step).data[0, 0]
        array([[0. , 3.5, 3.5, 0. ],
               [0. , 3.5, 3.5, 0. ]])
    """
    threshold = check.non_negative(threshold, "threshold", "filters.edge_detector")
    conv = nn.Conv2d(1, 1, 3, rng=0, dtype=dtype)
    conv.weight.data[0, 0] = kernel(name)
    conv.bias.data[0] = -threshold
    return nn.Sequential({"conv": conv, "relu": nn.ReLU()})
