"""Reading a worked example from a JSON spec, for ``deltagrad explain SPEC.json``.

Four kinds, each a table of fields read by the one schema of :mod:`.schema` (unknown fields
refused with "did you mean", every value checked for type, shape and finiteness, naming the
field). ``"kind"`` names the kind; without it the kind whose fields the spec shares most is
taken. ``docs/explain-spec.md`` documents every field.

``mlp`` — backpropagation through a feed-forward network (§3.1–3.2)::

    {"sizes": [2, 2, 1],                 # or "2-2-1"
     "activations": ["tanh", "identity"], # one per layer (or "hidden" and "output")
     "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]],   # W^(l)[j][i] = w_ji
     "biases": [[0.1, 0.0], [0.2]],
     "x": [1.0, 0.5], "t": [1.0], "loss": "sum_of_squares", "lr": 0.1}

``rnn`` — backpropagation through time (§9.3), an RNN with its output layer (eq. 8.6–8.9)::

    {"W_xh": [[0.5, 0.1], [0.2, 0.4]], "W_hh": [[0.3, 0.6], [0.7, 0.1]], "b_h": [0.1, 0.1],
     "W_hy": [[0.8, 0.4]], "b_y": [0.0], "nonlinearity": "tanh",
     "xs": [[1, 0], [0, 1]], "ys": [[0.5], [0.9]], "lr": 0.1}

``conv_unit`` — one convolutional unit (eq. 7.3–7.4)::

    {"image": [[0, 0, 1], [0, 1, 1], [1, 1, 1]], "kernel": [[1, 0], [0, -1]], "bias": 0.5,
     "stride": 1, "padding": 0, "activation": "relu", "j": 0, "k": 1}

``attention_head`` — one attention head and its backward pass (eq. 11.1–11.3)::

    {"q": [[1, 0], [0, 1]], "k": [[1, 0], [0, 1], [1, 1]], "v": [[1, 2], [3, 4], [5, 6]],
     "causal": false}
"""

from __future__ import annotations

import json

import numpy as np

from ..nn.activation import ACTIVATIONS
from ..nn.container import MLP, parse_sizes
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.recurrent import NONLINEARITIES, RNN
from . import schema
from .attention import attention_head
from .backprop import CANONICAL, backprop, targets_for
from .bptt import bptt
from .conv import FORMULA, conv_unit
from .schema import Field, Kind, boolean, choice, int_or_pair, integer, numbers, positive

OWNER = schema.OWNER


def _sizes(value, name: str) -> list:
    if isinstance(value, bool) or not isinstance(value, (str, list)):
        raise ValueError(f"{OWNER}: {name} must be a list of layer widths such as [2, 2, 1] or "
                         f"a string such as '2-2-1', got {value!r}")
    try:
        return parse_sizes(value)
    except ValueError as err:
        raise ValueError(f"{OWNER}: {name} {str(err).split(': sizes ', 1)[-1]}") from None


def _per_layer(read_one):
    """A reader of a list with one entry per layer, each read by ``read_one`` as name[l]."""
    def read(value, name: str) -> list:
        if not isinstance(value, list):
            raise ValueError(f"{OWNER}: {name} must be a list with one entry per layer, got "
                             f"{value!r}")
        return [read_one(v, f"{name}[{l}]") for l, v in enumerate(value)]
    return read


_ACTIVATION = choice(sorted(ACTIVATIONS))

MLP_KIND = Kind("mlp", "backpropagation through a feed-forward network (§3.1–3.2)", (
    Field("sizes", _sizes, doc="layer widths, inputs first: [2, 2, 1] or \"2-2-1\""),
    Field("weights", _per_layer(numbers(2)),
          doc="one matrix per layer, W^(l)[j][i] = w_ji: (units, inputs)"),
    Field("biases", _per_layer(numbers(1)), doc="one vector per layer, (units,)"),
    Field("x", numbers(1, 2), {1: ("D",), 2: ("N", "D")},
          doc="one pattern (D,) or N patterns (N, D)"),
    Field("t", numbers(0, 1, 2), doc="targets (K,) or (N, K); labels (N,) for cross_entropy"),
    Field("activations", _per_layer(_ACTIVATION), default=None,
          doc="one activation per layer (default tanh hidden, identity output)"),
    Field("hidden", _ACTIVATION, default="tanh", doc="the hidden layers' activation"),
    Field("output", _ACTIVATION, default="identity", doc="the output layer's activation"),
    Field("loss", choice(sorted(CANONICAL)), default="sum_of_squares", doc="the error function"),
    Field("lr", positive, default=None, doc="η: also show the update"),
), {"D": "inputs", "N": "patterns"}, exclusive=((("activations",),
                                                  ("hidden", "output")),))

RNN_KIND = Kind("rnn", "backpropagation through time of an RNN and its output layer (§9.3)", (
    Field("W_xh", numbers(2), ("H", "D"), doc="input weights (hidden, inputs)"),
    Field("W_hh", numbers(2), ("H", "H"), doc="recurrent weights (hidden, hidden)"),
    Field("b_h", numbers(1), ("H",), doc="hidden bias (hidden,)"),
    Field("W_hy", numbers(2), ("K", "H"), doc="output weights (outputs, hidden)"),
    Field("b_y", numbers(1), ("K",), doc="output bias (outputs,)"),
    Field("xs", numbers(2), ("T", "D"), doc="the input sequence, one row per step (T, inputs)"),
    Field("ys", numbers(2), ("T", "K"), doc="the targets, one row per step (T, outputs)"),
    Field("nonlinearity", choice(NONLINEARITIES), default="tanh", doc="f of eq. 8.6"),
    Field("lr", positive, default=None, doc="η: also show the update"),
), {"H": "hidden units", "D": "inputs per step", "K": "outputs", "T": "steps"})

CONV_KIND = Kind("conv_unit", "one convolutional unit a_jk, z_jk (eq. 7.3–7.4)", (
    Field("image", numbers(2, 3), {2: ("H", "W"), 3: ("C", "H", "W")},
          doc="the image (H, W), or (C, H, W) with C channels"),
    Field("kernel", numbers(2, 3, 4), {2: ("M", "M'"), 3: ("C", "M", "M'"),
                                       4: ("F", "C", "M", "M'")},
          doc="K(l, m): (M, M'), (C, M, M') or F kernels (F, C, M, M')"),
    Field("j", integer(0), doc="the unit's row in the feature map, from 0"),
    Field("k", integer(0), doc="the unit's column in the feature map, from 0"),
    Field("bias", numbers(0, 1), {0: (), 1: ("F",)}, default=None,
          doc="w₀, one per kernel (default 0)"),
    Field("feature", integer(0), default=0, doc="which kernel (feature map), from 0"),
    Field("stride", int_or_pair(1), default=1, doc="s, or [rows, columns]"),
    Field("padding", int_or_pair(0), default=0, doc="zeros around the image, or [rows, cols]"),
    Field("activation", choice(sorted(FORMULA)), default="relu", doc="f of eq. 7.4"),
), {"C": "channels", "F": "kernels"})

ATTENTION_KIND = Kind("attention_head", "one attention head and its backward pass "
                                        "(eq. 11.1–11.3)", (
    Field("q", numbers(2), ("N", "d"), doc="queries (N, d)"),
    Field("k", numbers(2), ("M", "d"), doc="keys (M, d)"),
    Field("v", numbers(2), ("M", "d_v"), doc="values (M, d_v)"),
    Field("grad_output", numbers(2), ("N", "d_v"), default=None,
          doc="∂E/∂y (N, d_v); default all ones"),
    Field("mask", schema.mask, ("N", "M"), default=None,
          doc="true where query n may attend to key m (N, M)"),
    Field("causal", boolean, default=False, doc="query n attends only to keys m ≤ n"),
), {"N": "queries", "M": "keys", "d": "features of q and k", "d_v": "features of v"})

KINDS = {kind.name: kind for kind in (MLP_KIND, RNN_KIND, CONV_KIND, ATTENTION_KIND)}


def kind_of(spec: dict) -> Kind:
    """The spec's kind: its ``"kind"`` field, or the kind whose fields it shares most."""
    if "kind" in spec:
        return KINDS[choice(list(KINDS))(spec["kind"], "kind")]
    shared = {name: len(set(spec) & set(kind.names())) for name, kind in KINDS.items()}
    best = max(shared.values())
    leaders = [name for name, count in shared.items() if count == best]
    if best == 0 or len(leaders) > 1:
        raise ValueError(f"{OWNER}: cannot tell which kind of worked example this is; add "
                         f"\"kind\": one of {list(KINDS)}")
    return KINDS[leaders[0]]


def is_recurrent(spec: dict) -> bool:
    """A spec of an RNN rather than another kind."""
    return kind_of(spec) is RNN_KIND


def load_spec(source) -> dict:
    """Parse a spec from a path, a JSON string or a dict and check every field against its
    kind's schema; returns the spec as given (a dict)."""
    if isinstance(source, dict):
        spec = dict(source)
    else:
        text = str(source)
        if not text.lstrip().startswith(("{", "[")):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{OWNER}: not valid JSON ({err})") from err
    if not isinstance(spec, dict):
        raise ValueError(f"{OWNER}: expected a JSON object {{...}}, got {type(spec).__name__}")
    values = schema.check(spec, kind_of(spec))
    if kind_of(spec) is MLP_KIND:
        _mlp_layers(values)
    return spec


def _mlp_layers(values: dict) -> tuple:
    """``(sizes, hidden, output)`` with weights, biases and activations one per layer, each of
    the shape the sizes give."""
    sizes = values["sizes"]
    n_layers = len(sizes) - 1
    for name in ("weights", "biases", "activations"):
        if values[name] is not None and len(values[name]) != n_layers:
            raise ValueError(f"{OWNER}: {name} has {len(values[name])} entries for {n_layers} "
                             f"layers (sizes {sizes})")
    for l in range(n_layers):
        for name, shape in (("weights", (sizes[l + 1], sizes[l])), ("biases", (sizes[l + 1],))):
            if values[name][l].shape != shape:
                raise ValueError(f"{OWNER}: {name}[{l}] (layer {l + 1}) has shape "
                                 f"{values[name][l].shape}; expected {shape}")
    schema.match_shape(values["x"], "x", {1: ("D",), 2: ("N", "D")},
                       {"D": (sizes[0], "sizes")}, MLP_KIND.dims)
    if values["activations"] is not None:
        return sizes, values["activations"][:-1], values["activations"][-1]
    return sizes, values["hidden"], values["output"]


def build(spec: dict):
    """``(model, x, t, loss, lr)`` from an ``mlp`` spec."""
    values = schema.check(spec, _expect(spec, MLP_KIND))
    sizes, hidden, output = _mlp_layers(values)
    model = MLP(sizes, hidden=hidden, output=output, rng=0)
    for linear, w, b in zip(model.linears, values["weights"], values["biases"]):
        linear.weight.data[...] = w
        linear.bias.data[...] = b
    targets_for(model, len(np.atleast_2d(values["x"])), values["t"], values["loss"], OWNER)
    return model, values["x"], values["t"], values["loss"], values["lr"]


def build_recurrent(spec: dict):
    """``(rnn, output_layer, xs, ys, lr)`` from an ``rnn`` spec."""
    values = schema.check(spec, _expect(spec, RNN_KIND))
    hidden, inputs = values["W_xh"].shape
    rnn = RNN(inputs, hidden, nonlinearity=values["nonlinearity"], rng=0)
    out = Linear(hidden, len(values["b_y"]), rng=0)
    for field, param in (("W_xh", rnn.W_xh), ("W_hh", rnn.W_hh), ("b_h", rnn.b_h),
                         ("W_hy", out.weight), ("b_y", out.bias)):
        param.data[...] = values[field]
    return rnn, out, values["xs"], values["ys"], values["lr"]


def build_conv_unit(spec: dict) -> dict:
    """The arguments of :func:`conv_unit` (``model``, ``image``, ``j``, ``k``, ``feature``,
    ``activation``) from a ``conv_unit`` spec: a Conv2d holding the kernel(s) and bias."""
    values = schema.check(spec, _expect(spec, CONV_KIND))
    image = values["image"] if values["image"].ndim == 3 else values["image"][None]
    kernel = values["kernel"]
    kernel = kernel.reshape((1,) * (4 - kernel.ndim) + kernel.shape)
    n_kernels, channels = kernel.shape[:2]
    if channels != image.shape[0]:
        raise ValueError(f"{OWNER}: kernel has {channels} channel(s) (shape "
                         f"{values['kernel'].shape}) but image has {image.shape[0]} (shape "
                         f"{values['image'].shape})")
    bias = np.zeros(n_kernels) if values["bias"] is None else np.broadcast_to(
        values["bias"], (n_kernels,)) if values["bias"].ndim == 0 else values["bias"]
    if len(bias) != n_kernels:
        raise ValueError(f"{OWNER}: bias has {len(bias)} entries for {n_kernels} kernel(s)")
    kh, kw = kernel.shape[2:]
    conv = Conv2d(channels, n_kernels, (kh, kw), stride=values["stride"],
                  padding=values["padding"], rng=0)
    too_small = [axis for axis, size, m, pad in zip(("rows", "columns"), image.shape[1:],
                                                    (kh, kw), conv.padding)
                 if size + 2 * pad < m]
    if too_small:
        raise ValueError(f"{OWNER}: kernel {kh}×{kw} is larger than the (padded) image "
                         f"{image.shape[1]}×{image.shape[2]} in its {' and '.join(too_small)}")
    conv.weight.data[...] = kernel
    conv.bias.data[...] = bias
    rows, cols = ((size + 2 * pad - m) // step + 1 for size, pad, m, step in zip(
        image.shape[1:], conv.padding, (kh, kw), conv.stride))
    limits = {"j": (rows, f"the feature map has {rows} rows"),
              "k": (cols, f"the feature map has {cols} columns"),
              "feature": (n_kernels, "there is 1 kernel" if n_kernels == 1 else
                          f"there are {n_kernels} kernels")}
    for name, (size, why) in limits.items():
        if values[name] >= size:
            raise ValueError(f"{OWNER}: {name} must be an integer in [0, {size - 1}] ({why}), "
                             f"got {values[name]}")
    return {"model": conv, "image": image, "j": values["j"], "k": values["k"],
            "feature": values["feature"], "activation": values["activation"]}


def build_attention(spec: dict) -> dict:
    """The arguments of :func:`attention_head` from an ``attention_head`` spec."""
    values = schema.check(spec, _expect(spec, ATTENTION_KIND))
    return {name: values[name] for name in ("q", "k", "v", "grad_output", "mask", "causal")}


def _expect(spec: dict, kind: Kind) -> Kind:
    found = kind_of(spec)
    if found is not kind:
        raise ValueError(f"{OWNER}: this is {_article(found.name)} {found.name} spec; expected "
                         f"{_article(kind.name)} {kind.name} spec")
    return kind


def solve(source, lr: float | None = None, precision: int = 6):
    """The worked :class:`Solution` of any kind of spec (a path, JSON text or a dict);
    ``lr`` replaces the spec's η (``mlp`` and ``rnn`` specs, which have an update).

    Example:
        >>> from deltagrad.explain.spec import solve
        >>> sol = solve({"q": [[1.0, 0.0]], "k": [[1.0, 0.0], [0.0, 1.0]],
        ...              "v": [[1.0], [0.0]]})
        >>> round(sol["y_1[1]"], 4)
        0.6698
    """
    spec = load_spec(source)
    kind = kind_of(spec)
    if kind is MLP_KIND:
        model, x, t, loss, spec_lr = build(spec)
        return backprop(model, x, t, loss=loss, lr=spec_lr if lr is None else lr,
                        precision=precision)
    if kind is RNN_KIND:
        rnn, out, xs, ys, spec_lr = build_recurrent(spec)
        return bptt(rnn, out, xs, ys, lr=spec_lr if lr is None else lr, precision=precision)
    if lr is not None:
        raise ValueError(f"{OWNER}: a {kind.name} spec has no weight update; --lr applies to "
                         f"mlp and rnn specs")
    if kind is CONV_KIND:
        return conv_unit(**build_conv_unit(spec))
    return attention_head(**build_attention(spec))


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"
