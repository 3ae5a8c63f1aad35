"""One convolutional unit worked out as eq. 7.3–7.4 write it: its receptive field, the kernel,
the products, their sum, the bias w₀, a_jk and z_jk = f(a_jk).

a_jk and z_jk come from the engine (the layer's own ``conv2d`` and the activation module);
the receptive field is read from the (padded) image, and the sum of the products plus w₀ is
shown beside the engine's a_jk, which it equals.
"""

from __future__ import annotations

import numpy as np

from .. import _validate as check
from ..nn.activation import ACTIVATIONS, activation
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..tensor import Tensor
from .solution import Line, Solution

_ACTIVATION_CLASSES = set(ACTIVATIONS.values())
FORMULA = {"relu": "max(a, 0)", "identity": "a", "tanh": "tanh(a)", "sigmoid": "σ(a)",
           "step": "1 if a ≥ 0 else 0"}


def _v(value) -> str:
    return f"{{v:{float(value)!r}}}"


def _unit_layers(model, function: str | None) -> tuple:
    """``(Conv2d, activation module)`` from a Conv2d (``function`` names f, ReLU when None)
    or from a Sequential that starts with a Conv2d and an activation — whose f is the
    model's own: a different ``function`` given beside it is refused, naming both."""
    if function is not None:
        function = check.choice(function, FORMULA, "activation", "explain.conv_unit")
    if isinstance(model, Conv2d):
        return model, activation(function or "relu")
    if isinstance(model, Sequential) and len(model) >= 1 and isinstance(model[0], Conv2d):
        if len(model) < 2 or type(model[1]) not in _ACTIVATION_CLASSES:
            act, shown = activation("identity"), "no activation (identity)"
        elif model[1].name not in FORMULA:
            raise ValueError(f"explain.conv_unit: cannot show a {type(model[1]).__name__} "
                             f"after the Conv2d; expected one of {sorted(FORMULA)}")
        else:
            act, shown = model[1], f"{type(model[1]).__name__} ({model[1].name})"
        if function is not None and function != act.name:
            raise ValueError(f"explain.conv_unit: activation={function!r} was given, but the "
                             f"model applies {shown} after its Conv2d; omit activation= to "
                             f"use the model's, or pass the Conv2d alone (model[0])")
        return model[0], act
    raise TypeError(f"explain.conv_unit: expected a Conv2d, or a Sequential starting with "
                    f"Conv2d (and an activation), got {type(model).__name__}")


def _image(conv: Conv2d, image) -> np.ndarray:
    x = np.asarray(image.data if isinstance(image, Tensor) else image, dtype=conv.weight.dtype)
    if x.ndim == 2 and conv.in_channels == 1:
        x = x[None]
    if x.ndim != 3 or x.shape[0] != conv.in_channels:
        raise ValueError(f"explain.conv_unit: image must have shape (C, H, W) with "
                         f"C = {conv.in_channels} (or (H, W) for one channel), got {x.shape}")
    return x


def conv_unit(model, image, j: int, k: int, feature: int = 0,
              activation: str | None = None) -> Solution:
    """Work out unit (j, k) of feature map ``feature`` as eq. 7.3–7.4 write it.

    a_jk = Σ_c Σ_l Σ_m I_c(s·j + l, s·k + m) K_c(l, m) + w₀ and z_jk = f(a_jk), with l, m
    from 1 to M as in the notes, I the zero-padded image indexed from 1 and j, k the unit's
    position in the feature map, from 0 (so unit (0, 0) sees I(1…M, 1…M)).

    Args:
        model: a ``Conv2d`` (then ``activation`` names f, ReLU by default), or a
            ``Sequential`` that starts with a Conv2d and its activation module (f is then
            the model's; an ``activation`` that differs from it is an error).
        image: one image ``(C, H, W)``, or ``(H, W)`` for a one-channel layer.
        j, k: the unit's row and column in the feature map.
        feature: which kernel (feature map).

    Returns:
        A :class:`Solution`; ``to_text()``, ``to_markdown()``, ``to_latex()``, ``to_json()``,
        and ``sol["a_jk"]``-style access (e.g. ``sol["a_12"]``, ``sol["z_12"]``).

    Example:
        >>> import numpy as np, deltagrad as dg
        >>> from deltagrad.data import filters
        >>> step = np.zeros((5, 5)); step[:, 3:] = 1.0
        >>> sol = dg.explain.conv_unit(filters.edge_detector("sobel_vertical"), step, 1, 1)
        >>> sol["a_11"], sol["z_11"]
        (3.5, 3.5)
    """
    conv, act = _unit_layers(model, activation)
    x = _image(conv, image)
    f_out = conv.out_channels
    feature = _index(feature, f_out, "feature")
    with_batch = Tensor._wrap(x[None])
    a_map = conv(with_batch)
    z_map = act(a_map)
    rows, cols = a_map.shape[2:]
    j, k = _index(j, rows, "j"), _index(k, cols, "k")
    (kh, kw), (sh, sw), (ph, pw) = conv.kernel_size, conv.stride, conv.padding
    padded = np.pad(x, ((0, 0), (ph, ph), (pw, pw)))
    field = padded[:, sh * j:sh * j + kh, sw * k:sw * k + kw]
    kernel = conv.weight.data[feature]
    w0 = 0.0 if conv.bias is None else float(conv.bias.data[feature])
    a = float(a_map.data[0, feature, j, k])
    z = float(z_map.data[0, feature, j, k])
    multi = conv.in_channels > 1

    def pixel(c, l, m):  # I(j+l, k+m) with 1-based l, m and image coordinates
        name = f"I_{c + 1}" if multi else "I"
        return f"{name}({sh * j + l},{sw * k + m})"

    def weight(c, l, m):
        return f"K_{c + 1}({l},{m})" if multi else f"K({l},{m})"

    title = f"Convolutional unit ({j}, {k}) of feature map {feature + 1} (eq. 7.3–7.4)"
    sol = Solution(title)
    where = (f"the unit's receptive field: rows {sh * j + 1}–{sh * j + kh}, columns "
             f"{sw * k + 1}–{sw * k + kw} of the image" + (" (zero-padded)" if ph or pw else ""))
    fields = sol.section("Receptive field I(j+l, k+m)", where)
    kernels = sol.section(f"Kernel K(l, m) of feature map {feature + 1}")
    products = sol.section("Products I(j+l, k+m) · K(l, m)")
    total = 0.0
    for c in range(conv.in_channels):
        for l in range(1, kh + 1):
            for m in range(1, kw + 1):
                i_val, k_val = field[c, l - 1, m - 1], kernel[c, l - 1, m - 1]
                fields.lines.append(Line(pixel(c, l, m), i_val))
                kernels.lines.append(Line(weight(c, l, m), k_val))
                products.lines.append(Line(f"{pixel(c, l, m)}·{weight(c, l, m)}", i_val * k_val,
                                           working=f"{_v(i_val)} × {_v(k_val)}"))
                total += i_val * k_val
    unit = sol.section("The unit", "a from the engine's conv2d; z from its activation")
    unit.lines.append(Line("Σ", total, "Σ_l Σ_m I(j+l, k+m) K(l, m)" + (
        " (and Σ over channels c)" if multi else "")))
    unit.lines.append(Line("w_0", w0, "the bias"))
    unit.lines.append(Line(f"a_{j}{k}", a, "Σ + w_0 (eq. 7.3)", f"{_v(total)} + {_v(w0)}"))
    unit.lines.append(Line(f"z_{j}{k}", z, f"f(a_{j}{k}) = {FORMULA[act.name]} (eq. 7.4)",
                           f"{act.name}{{a:{a!r}}}"))
    return sol


def _index(value, size: int, name: str) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) \
            or not 0 <= value < size:
        raise ValueError(f"explain.conv_unit: {name} must be an integer in [0, {size - 1}], "
                         f"got {value!r}")
    return int(value)
