"""Reading a network and one pattern from a JSON spec, for ``deltagrad explain SPEC.json``.

A spec::

    {"sizes": [2, 2, 1],                 # or "2-2-1"
     "activations": ["tanh", "identity"], # one per layer (or "hidden" and "output")
     "weights": [[[0.5, 0.2], [-0.3, 0.8]], [[1.0, -0.5]]],   # W^(l)[j][i] = w_ji
     "biases": [[0.1, 0.0], [0.2]],
     "x": [1.0, 0.5], "t": [1.0], "loss": "sum_of_squares", "lr": 0.1}

or, for backpropagation through time (§9.3), an RNN with its output layer (eq. 8.6–8.9)::

    {"W_xh": [[0.5, 0.1], [0.2, 0.4]], "W_hh": [[0.3, 0.6], [0.7, 0.1]], "b_h": [0.1, 0.1],
     "W_hy": [[0.8, 0.4]], "b_y": [0.0], "nonlinearity": "tanh",
     "xs": [[1, 0], [0, 1]], "ys": [[0.5], [0.9]], "lr": 0.1}
"""

from __future__ import annotations

import difflib
import json

import numpy as np

from .. import _validate as check
from ..nn.container import MLP, parse_sizes
from ..nn.linear import Linear
from ..nn.recurrent import RNN

REQUIRED = ("sizes", "weights", "biases", "x", "t")
OPTIONAL = ("activations", "hidden", "output", "loss", "lr")


RECURRENT_REQUIRED = ("W_xh", "W_hh", "b_h", "W_hy", "b_y", "xs", "ys")


def is_recurrent(spec: dict) -> bool:
    """A spec of an RNN (it names W_hh) rather than a feed-forward network."""
    return "W_hh" in spec


def load_spec(source) -> dict:
    """Parse a spec from a path, a JSON string or a dict, checking every field."""
    if isinstance(source, dict):
        spec = dict(source)
    else:
        text = str(source)
        if not text.lstrip().startswith("{"):
            with open(text, encoding="utf-8") as handle:
                text = handle.read()
        try:
            spec = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"spec: not valid JSON ({err})") from err
    if not isinstance(spec, dict):
        raise ValueError(f"spec: expected a JSON object {{...}}, got {type(spec).__name__}")
    if is_recurrent(spec):
        missing = [field for field in RECURRENT_REQUIRED if field not in spec]
        if missing:
            raise ValueError(f"spec: missing field(s) {missing}; an RNN spec needs "
                             f"{list(RECURRENT_REQUIRED)} and optionally nonlinearity, lr")
        return spec
    missing = [field for field in REQUIRED if field not in spec]
    if missing:
        raise ValueError(f"spec: missing field(s) {missing}; a spec needs {list(REQUIRED)} "
                         "and optionally activations (or hidden/output), loss, lr")
    _refuse_unknown(spec)
    return spec


def _refuse_unknown(spec: dict) -> None:
    """A field the spec does not know (a typo such as ``activation``) is an error, not ignored."""
    for field in spec:
        if field not in REQUIRED + OPTIONAL:
            close = difflib.get_close_matches(str(field), REQUIRED + OPTIONAL, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ValueError(f"spec: unknown field {field!r}{hint} (fields: "
                             f"{', '.join(REQUIRED + OPTIONAL)})")
    if "activations" in spec and ("hidden" in spec or "output" in spec):
        raise ValueError("spec: give activations, or hidden and output, not both")


def numbers_of(value, field: str, owner: str = "spec") -> np.ndarray:
    """A numeric input of explain as a float array: type errors and NaN or infinity name the
    field (``"spec: x contains NaN or infinite values"``)."""
    if isinstance(value, (str, bool, dict)) or value is None:
        raise ValueError(f"{owner}: {field} must be numbers, got {value!r}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{owner}: {field} must be a number or a list of numbers with rows of "
                         f"equal length, got {value!r}") from None
    if not np.all(np.isfinite(array)):
        shown = value.tolist() if isinstance(value, np.ndarray) else value
        raise ValueError(f"{owner}: {field} contains NaN or infinite values: {shown!r}")
    return array


def _per_layer(value, field: str, n_layers: int) -> list:
    if not isinstance(value, list):
        raise ValueError(f"spec: {field} must be a list with one entry per layer ({n_layers}), "
                         f"got {value!r}")
    if len(value) != n_layers:
        raise ValueError(f"spec: {field} has {len(value)} entries for {n_layers} layers")
    return value


def build(spec: dict):
    """``(model, x, t, loss, lr)`` from a checked spec."""
    sizes = parse_sizes(spec["sizes"])
    n_layers = len(sizes) - 1
    if "activations" in spec:
        acts = _per_layer(spec["activations"], "activations", n_layers)
        hidden, output = acts[:-1], acts[-1]
    else:
        hidden, output = spec.get("hidden", "tanh"), spec.get("output", "identity")
    model = MLP(sizes, hidden=hidden, output=output, rng=0)
    for field in ("weights", "biases"):
        _per_layer(spec[field], field, n_layers)
    for l, linear in enumerate(model.linears, start=1):
        for field, param in (("weights", linear.weight), ("biases", linear.bias)):
            value = numbers_of(spec[field][l - 1], f"{field}[{l - 1}]")
            if value.shape != param.shape:
                raise ValueError(f"spec: {field}[{l - 1}] (layer {l}) has shape {value.shape}; "
                                 f"expected {param.shape}")
            param.data[...] = value
    x = numbers_of(spec["x"], "x")
    if x.shape[-1:] != (sizes[0],):
        raise ValueError(f"spec: x has shape {x.shape}; expected ({sizes[0]},) or (N, {sizes[0]})")
    t = numbers_of(spec["t"], "t")
    loss = spec.get("loss", "sum_of_squares")
    lr = spec.get("lr")
    if lr is not None:
        check.positive(lr, "lr", "spec")
    return model, x, t, loss, lr


def build_recurrent(spec: dict):
    """``(rnn, output_layer, xs, ys, lr)`` from a checked RNN spec."""
    W_xh = np.asarray(spec["W_xh"], dtype=np.float64)
    W_hy = np.asarray(spec["W_hy"], dtype=np.float64)
    if W_xh.ndim != 2 or W_hy.ndim != 2:
        raise ValueError(f"spec: W_xh and W_hy must be matrices (D_h × D_x, D_y × D_h), got "
                         f"shapes {W_xh.shape} and {W_hy.shape}")
    rnn = RNN(W_xh.shape[1], W_xh.shape[0], nonlinearity=spec.get("nonlinearity", "tanh"),
              rng=0)
    out = Linear(W_hy.shape[1], W_hy.shape[0], rng=0)
    for field, param in (("W_xh", rnn.W_xh), ("W_hh", rnn.W_hh), ("b_h", rnn.b_h),
                         ("W_hy", out.weight), ("b_y", out.bias)):
        value = np.asarray(spec[field], dtype=np.float64)
        if value.shape != param.shape:
            raise ValueError(f"spec: {field} has shape {value.shape}; expected {param.shape}")
        param.data[...] = value
    return rnn, out, spec["xs"], spec["ys"], spec.get("lr")
